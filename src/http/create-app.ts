/**
 * The dashboard server: a JSON API where every route is one read-helper call (one SQL statement,
 * its freshness included; `?fresh=1` for an answer exact now),
 * the web page at /, bull-board at /queues and Prometheus metrics at /metrics.
 */

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { type Logger, pino } from 'pino';
import { DEFAULT_FRESH_MAX_PENDING } from '../config.js';
import type { StatDb } from '../db/types.js';
import { InvalidInputError, NotFoundError, StatcacheError } from '../errors/error-classes.js';
import { outcomeOf } from '../errors/error-kind.js';
import { type ReadOptions, readOptionsFrom } from '../read/fresh/read-options.js';
import { getExperimentSeries } from '../read/get-experiment-series.js';
import { getExperimentTrend } from '../read/get-experiment-trend.js';
import { EXPERIMENT_SORT_KEYS, listExperiments } from '../read/list-experiments.js';
import { listSessions, SESSION_SORT_KEYS } from '../read/list-sessions.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import type { SourceProfile } from '../source/source-profile.js';
import { replicaReport } from '../status/get-replica-status.js';
import { getStatus } from '../status/get-status.js';
import { DAY_MS } from '../time/durations.js';
import { dashboardAuth } from './dashboard-auth.js';
import type { Metrics } from './metrics.js';
import * as q from './query-params.js';
import { securityHeaders } from './security-headers.js';

export interface AppOptions {
  /** The primary: fresh reads (exact at its now) and, without a replica, every read. */
  db: StatDb;
  /**
   * A read replica (DATABASE_READ_URL) and where it is (host:port/db): the data routes' plain reads
   * and /api/status read there, each answer's freshness the replica's own view; its lag is in
   * /api/status. @defaultValue none
   */
  replica?: { db: StatDb; target: string };
  metrics: Metrics;
  excludedPlatforms: readonly string[];
  /** Where the platform keeps its tables; every read helper takes it. @defaultValue the statcache demo schema */
  source?: SourceProfile;
  /** The bound of `?fresh=1` reads. @defaultValue 5000 */
  freshMaxPending?: number;
  /**
   * When set, every route but /healthz needs this token (bearer, or the /signin cookie); `serve`
   * requires one to listen beyond loopback. @defaultValue none: open, for loopback only
   */
  token?: string;
  /**
   * Where requests (debug) and 5xx causes (error) are logged, one JSON line each with the request's
   * id. @defaultValue silent
   */
  logger?: Logger;
  /**
   * The queue's dashboard, mounted at /queues (QUEUE_BOARD_PATH): bull-board's router, built for that
   * base path in jobs/queue-board.ts; omitted without Redis.
   */
  queueBoard?: RequestHandler;
  /** Reads the queue's state for /api/status; omitted without Redis. */
  queueStatus?: () => Promise<unknown>;
}

/** A series request without `from` covers this many days before `to` (the sparklines' window). */
const DEFAULT_SERIES_DAYS = 30;
/**
 * Where the queue's dashboard is mounted. The server takes it as a ready express handler
 * (bull-board, built in jobs/queue-board.ts for this base path), so the library does not depend on
 * the queue.
 */
export const QUEUE_BOARD_PATH = '/queues';
/** Ids per /api/series request (a page of the experiments table). */
const MAX_SERIES_IDS = 100;
/** The page's static files, found from source (src/http) and from the build (dist/src/http) alike. */
const PUBLIC_DIR = findPublicDir(dirname(fileURLToPath(import.meta.url)));

function findPublicDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'src', 'http', 'public');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir)
      throw new Error('statcache is installed without src/http/public; reinstall the package');
  }
}

export function createApp(options: AppOptions): express.Express {
  const { db, source, replica } = options;
  // A fresh read is exact at the primary's now: a replica's recount would be exact as of its replay.
  const dbFor = (read: ReadOptions): StatDb => (read.fresh || !replica ? db : replica.db);
  /** Every data route's read options: `?fresh=1` asks for an answer exact now. */
  const readOf = (req: Request): ReadOptions => ({
    ...readOptionsFrom({
      source: source ?? STATCACHE_PROFILE,
      excludedPlatforms: options.excludedPlatforms,
      freshMaxPending: options.freshMaxPending ?? DEFAULT_FRESH_MAX_PENDING,
    }),
    fresh: q.flag(req.query, 'fresh'),
  });
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const end = options.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => end({ route: routeLabel(req), status: String(res.statusCode) }));
    next();
  });

  const logger = options.logger ?? pino({ level: 'silent' });
  // Every request gets an id: its log lines carry it, a 5xx answer names it.
  app.use((req, res, next) => {
    const requestId = randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = performance.now();
    res.on('finish', () =>
      logger.debug(
        {
          requestId,
          method: req.method,
          url: req.originalUrl,
          status: res.statusCode,
          ms: performance.now() - started,
        },
        'request',
      ),
    );
    next();
  });
  app.use(securityHeaders(QUEUE_BOARD_PATH));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  if (options.token) app.use(dashboardAuth(options.token));

  app.get('/api/experiments', async (req, res) => {
    q.acceptOnly(req.query, 'GET /api/experiments', ['team', 'sort', 'order', 'limit', 'offset', 'fresh']);
    const teamId = q.optionalId(req.query, 'team');
    const read = readOf(req);
    const result = await listExperiments(dbFor(read), {
      teamId,
      sortBy: q.sortKey(req.query, EXPERIMENT_SORT_KEYS),
      order: q.order(req.query),
      limit: q.limit(req.query),
      offset: q.offset(req.query),
      ...read,
    });
    if (!result.teamFound) throw notFound('team', teamId as number, 'team');
    res.json({ rows: result.rows, total: result.total, freshness: result.freshness });
  });

  app.get('/api/experiments/:id/sessions', async (req, res) => {
    q.acceptOnly(req.query, 'GET /api/experiments/:id/sessions', [
      'sort',
      'order',
      'limit',
      'offset',
      'fresh',
    ]);
    const experimentId = q.parseId(req.params.id, 'id');
    const read = readOf(req);
    const result = await listSessions(dbFor(read), {
      experimentId,
      sortBy: q.sortKey(req.query, SESSION_SORT_KEYS),
      order: q.order(req.query),
      limit: q.limit(req.query),
      offset: q.offset(req.query),
      ...read,
    });
    if (!result.experimentFound) throw notFound('experiment', experimentId, 'id');
    res.json({ rows: result.rows, total: result.total, freshness: result.freshness });
  });

  app.get('/api/experiments/:id/series', async (req, res) => {
    q.acceptOnly(req.query, 'GET /api/experiments/:id/series', ['from', 'to', 'fresh']);
    const experimentId = q.parseId(req.params.id, 'id');
    const range = rangeOf(req);
    const read = readOf(req);
    const trend = await getExperimentTrend(dbFor(read), experimentId, { ...range, ...read });
    if (!trend) throw notFound('experiment', experimentId, 'id');
    res.json({ ...trend, from: range.from, to: range.to });
  });

  // The experiments table's sparklines: one request (one statement) for a whole page of ids.
  app.get('/api/series', async (req, res) => {
    q.acceptOnly(req.query, 'GET /api/series', ['experiments', 'from', 'to', 'fresh']);
    const ids = q.idList(req.query, 'experiments', MAX_SERIES_IDS);
    const range = rangeOf(req);
    const read = readOf(req);
    const series = await getExperimentSeries(dbFor(read), ids, { ...range, ...read });
    // As /api/experiments/:id/series answers for one unknown id: a 404 naming them, not an empty series.
    if (series.unknownIds.length > 0)
      throw new NotFoundError('experiment', series.unknownIds, { parameter: 'experiments' });
    res.json({
      from: range.from,
      to: range.to,
      series: Object.fromEntries(series),
      freshness: series.freshness,
    });
  });

  app.get('/api/status', async (req, res) => {
    q.acceptOnly(req.query, 'GET /api/status', []);
    const status = await getStatus(replica?.db ?? db);
    const replicaPart = await replicaReport(replica);
    let queue: unknown = null;
    let queueError: string | null = null;
    if (options.queueStatus) {
      try {
        queue = await options.queueStatus();
      } catch (error) {
        queueError = error instanceof Error ? error.message : String(error);
      }
    } else queueError = 'no queue attached (REDIS_URL unreachable when the server started)';
    res.json({ ...status, ...replicaPart, queue, queueError });
  });

  app.get('/metrics', async (req, res) => {
    q.acceptOnly(req.query, 'GET /metrics', []);
    res.set('Content-Type', options.metrics.registry.contentType);
    res.send(await options.metrics.registry.metrics());
  });

  if (options.queueBoard) app.use(QUEUE_BOARD_PATH, options.queueBoard);

  app.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0 }));

  app.use('/api', (_req, res) => {
    res.status(404).json({ error: { message: 'no such API route', parameter: null } });
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    // express' own 4xx (a path whose percent-encoding does not decode): the client's mistake.
    const clientStatus = clientErrorStatus(error);
    if (clientStatus !== undefined) {
      res.status(clientStatus).json({
        error: { message: `malformed request: ${firstLine(error)}; percent-encode the URL`, parameter: null },
      });
      return;
    }
    const status = outcomeOf(error).httpStatus;
    const requestId = String(res.locals.requestId);
    if (status >= 500) {
      // The cause (a statement, its parameters) stays in the log; the client gets the id to quote. A
      // failure the pool translated (the replica unreachable, naming DATABASE_READ_URL) is logged as it.
      const cause = (error as { cause?: unknown } | null)?.cause;
      const err = cause instanceof StatcacheError ? cause : error;
      logger.error({ requestId, method: req.method, url: req.originalUrl, err }, 'request failed');
      res.status(status).json({ error: { message: 'internal error', requestId } });
      return;
    }
    const parameter =
      error instanceof InvalidInputError || error instanceof NotFoundError ? (error.parameter ?? null) : null;
    res
      .status(status)
      .json({ error: { message: error instanceof Error ? error.message : String(error), parameter } });
  });
  return app;
}

/** The 4xx status express set on an error it raised itself (http-errors' `expose`), if any. */
function clientErrorStatus(error: unknown): number | undefined {
  const e = error as { status?: unknown; expose?: unknown } | null;
  return typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose !== false
    ? e.status
    : undefined;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** An id the route was given is not in the chat tables (a 404 naming its parameter). */
function notFound(entity: 'team' | 'experiment', id: number, parameter: string): NotFoundError {
  return new NotFoundError(entity, [id], { parameter, message: `${entity} ${id} not found` });
}

/** from/to of a series request; their order is checked by the read helper (a 400 naming `from`). */
function rangeOf(req: Request): { from: Date; to: Date } {
  const to = q.instant(req.query, 'to', new Date());
  return { from: q.instant(req.query, 'from', new Date(to.getTime() - DEFAULT_SERIES_DAYS * DAY_MS)), to };
}

/** Route pattern for the latency histogram (ids folded, so label cardinality stays bounded). */
function routeLabel(req: Request): string {
  const route = (req.route as { path?: string } | undefined)?.path;
  if (route) return route;
  if (req.path.startsWith(QUEUE_BOARD_PATH)) return QUEUE_BOARD_PATH;
  return req.path.startsWith('/api') ? 'unmatched' : 'static';
}
