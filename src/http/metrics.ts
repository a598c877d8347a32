/**
 * Prometheus metrics (prom-client) at /metrics: HTTP latency, and, read at scrape time, the database
 * pool's connections, idle connections and waiting requests (node-postgres pools only), the cache's
 * lag, pending changes and bucket counts per size; job durations and failures from the job events
 * the server is handed (none without a queue).
 */
import type { Pool } from 'pg';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StatDb } from '../db/types.js';
import { type CacheStatus, getStatus } from '../status/get-status.js';
import type { JobEventSource } from './job-event-source.js';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Closes the job event source it was given, if any. */
  close(): Promise<void>;
}

/** The metrics registry for `db`; job durations and failures are counted from `jobEvents` when given. */
export function createMetrics(db: StatDb, jobEvents?: JobEventSource): Metrics {
  const registry = new Registry();
  const httpDuration = new Histogram({
    name: 'statcache_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Registered before the gauges that run a statement, so a scrape reads the pool before its own
  // getStatus statement asks it for a connection.
  const pool = poolOf(db);
  if (pool) {
    new Gauge({
      name: 'statcache_db_pool_connections',
      help: 'Connections the database pool holds (busy and idle)',
      registers: [registry],
      collect() {
        this.set(pool.totalCount);
      },
    });
    new Gauge({
      name: 'statcache_db_pool_idle',
      help: 'Idle connections in the database pool',
      registers: [registry],
      collect() {
        this.set(pool.idleCount);
      },
    });
    new Gauge({
      name: 'statcache_db_pool_waiting',
      help: 'Requests queued for a database connection (every pool connection busy)',
      registers: [registry],
      collect() {
        this.set(pool.waitingCount);
      },
    });
  }
  // One getStatus statement per scrape feeds all three gauges (collected in parallel).
  let scrape: { at: number; status: Promise<CacheStatus> } | null = null;
  const status = () => {
    if (!scrape || Date.now() - scrape.at > 1_000) scrape = { at: Date.now(), status: getStatus(db) };
    return scrape.status;
  };
  new Gauge({
    name: 'statcache_lag_seconds',
    help: 'Age of the oldest pending change',
    registers: [registry],
    async collect() {
      this.set((await status()).pending.lagSeconds);
    },
  });
  new Gauge({
    name: 'statcache_pending_changes',
    help: 'Change rows waiting for a refresh',
    registers: [registry],
    async collect() {
      this.set((await status()).pending.count);
    },
  });
  new Gauge({
    name: 'statcache_buckets',
    help: 'Bucket rows by table and size',
    labelNames: ['table', 'size'] as const,
    registers: [registry],
    async collect() {
      for (const b of (await status()).buckets) {
        this.set({ table: 'experiment', size: b.size }, b.experimentBuckets);
        this.set({ table: 'session', size: b.size }, b.sessionBuckets);
      }
    },
  });
  const jobDuration = new Histogram({
    name: 'statcache_job_duration_seconds',
    help: 'Job run time by job name (completed jobs)',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const jobFailures = new Counter({
    name: 'statcache_job_failures_total',
    help: 'Failed job attempts by job name',
    labelNames: ['job'] as const,
    registers: [registry],
  });
  jobEvents?.onJobFinished(({ job, durationSeconds }) => jobDuration.observe({ job }, durationSeconds));
  jobEvents?.onJobFailed(({ job }) => jobFailures.inc({ job }));
  return {
    registry,
    httpDuration,
    close: async () => {
      await jobEvents?.close();
    },
  };
}

/** The counts a node-postgres pool keeps. */
type PoolCounts = Pick<Pool, 'totalCount' | 'idleCount' | 'waitingCount'>;

/** The node-postgres pool under `db` (`db.$client`), or null for any other client (PGlite, one pg.Client). */
function poolOf(db: StatDb): PoolCounts | null {
  const client = (db as { $client?: unknown }).$client as Partial<PoolCounts> | undefined;
  return typeof client?.totalCount === 'number' &&
    typeof client.idleCount === 'number' &&
    typeof client.waitingCount === 'number'
    ? (client as PoolCounts)
    : null;
}
