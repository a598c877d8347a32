/**
 * The serve bench's load phase: `connections` autocannon connections (one request in flight on each,
 * loopback) for `seconds` against a running `statcache serve`, on the dashboard's own request mix.
 * A page view is what src/http/public/app.js sends: the experiments page is GET /api/experiments
 * (a sort, order and offset) then GET /api/series for that page's 25 ids (30 days); an experiment's
 * page is GET /api/experiments/:id/sessions (a sort, order and page) and GET
 * /api/experiments/:id/series (365 days); every page view also GETs /api/status. Half the views
 * are each kind, drawn from a seeded sequence all connections take turns in. The experiment ids and
 * their session counts come from the database, the ids of each experiments page from the server
 * (those GETs warm it up); series end at the newest message. During the load the server's RSS is read
 * from /proc every second and GET /metrics (its own connection) every 2 s for the pool's gauges; the
 * answers and slowest answer of each second are kept, and the CPU the server, its PostgreSQL
 * backends, PostgreSQL's parallel workers, the load generator and the rest of the machine used (from
 * /proc), so a run on a shared machine shows it. The pool starts cold: its connections open, and
 * each plans its statements, under the first burst of requests.
 */
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import { formatMs, note, percentile } from './measure.js';
import { random } from './traffic.js';

const PAGE = 25;
/** Page views in the cycle the connections walk (3 requests each). */
const VIEWS = 2_000;
const RSS_SAMPLE_MS = 1_000;
const METRICS_SAMPLE_MS = 2_000;
/** Seconds before a request counts as a timeout (an error): only a hung request should. */
const TIMEOUT_S = 10;
const DAY_MS = 86_400_000;
/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;
const EXPERIMENT_SORTS = ['name', 'sessions', 'participants', 'humanMessages', 'lastActivity'];
const SESSION_SORTS = ['id', 'createdAt', 'humanMessages', 'lastActivity'];
/** Experiments pages whose ids are fetched per sort and order (the first 40 pages at most). */
const MAX_LIST_PAGES = 40;

export interface LoadOptions {
  seconds: number;
  connections: number;
}

export interface RouteFigures {
  route: string;
  requests: number;
  non2xx: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadResult extends LoadOptions {
  requests: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** autocannon's errors, which include its timeouts. */
  errors: number;
  timeouts: number;
  non2xx: number;
  routes: RouteFigures[];
  /** Up to 3 non-2xx answers, for the report. */
  failures: string[];
  /** Server RSS: idle (before the warm-up GETs), at the load's start, its max and at its end. */
  rssMb: { idle: number; start: number; max: number; end: number };
  pool: { waitingMax: number; connectionsMax: number; scrapes: number; failedScrapes: number };
  seriesTo: string;
  /** Answers and the slowest answer per second of the load (second 0 opens every connection). */
  timeline: { answers: number; maxMs: number }[];
  /** The second of the load in which each timeout fired. */
  timeoutSeconds: number[];
  /**
   * Cores busy on average during the load: the server, its PostgreSQL backends, PostgreSQL's
   * postmaster with the children it reaped (parallel workers; any database's), this load generator,
   * the rest of the machine.
   */
  cores: {
    server: number;
    postgres: number;
    postmaster: number;
    load: number;
    other: number;
    machine: number;
  };
}

/** CPU ticks busy so far on the whole machine (/proc/stat: all but idle and iowait). */
function machineTicks(): number {
  const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const ticks = fields.slice(0, 8).map(Number);
  return ticks.reduce((a, b) => a + b, 0) - (ticks[3] ?? 0) - (ticks[4] ?? 0);
}

/** /proc/<pid>/stat's fields after the command name (field 3, the state, first), or [] when it is gone. */
function statFields(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  } catch {
    return [];
  }
}

/** CPU ticks (user + system) process `pid` has used, with those of the children it reaped when asked. */
function processTicks(pid: number, children = false): number {
  const fields = statFields(pid).map(Number);
  const own = (fields[11] ?? 0) + (fields[12] ?? 0);
  return children ? own + (fields[13] ?? 0) + (fields[14] ?? 0) : own;
}

interface CpuSnapshot {
  machine: number;
  server: number;
  load: number;
  /** The PostgreSQL backends of this database (the server's pool), by pid. */
  backends: Map<number, number>;
  postmaster: number;
}

/** CPU ticks so far of the machine, the server (`pid`), this process and PostgreSQL. */
async function cpuSnapshot(databaseUrl: string, pid: number): Promise<CpuSnapshot> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = await client.query<{ pid: number }>(
      `select pid from pg_stat_activity
       where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()`,
    );
    const self = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    // Every backend is a child of the postmaster, which adds the CPU of the children it reaps.
    const postmaster = Number(statFields(self.rows[0]?.pid ?? 0)[1] ?? 0);
    return {
      machine: machineTicks(),
      server: processTicks(pid),
      load: processTicks(process.pid),
      backends: new Map(rows.rows.map((r) => [r.pid, processTicks(r.pid)])),
      postmaster: postmaster > 1 ? processTicks(postmaster, true) : 0,
    };
  } finally {
    await client.end();
  }
}

interface Step {
  route: string;
  path: string;
}

/** Fetches `path` from the server (its own connection); resolves with status and body. */
function fetchText(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = get(`${base}${path}`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      res.on('error', fail);
    });
    req.on('error', fail);
  });
}

/** The cycle of requests: VIEWS page views of the dashboard, seeded. */
async function dashboardSteps(databaseUrl: string, base: string): Promise<{ steps: Step[]; to: Date }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let experiments: { id: number; sessions: number }[];
  let to: Date;
  try {
    const rows = await client.query<{ id: string; sessions: string }>(
      `select e.id::text, count(s.id)::text as sessions
       from experiments e left join experiment_sessions s on s.experiment_id = e.id
       group by e.id order by e.id`,
    );
    experiments = rows.rows.map((r) => ({ id: Number(r.id), sessions: Number(r.sessions) }));
    const newest = await client.query<{ at: Date | null }>('select max(created_at) as at from chat_messages');
    // The seeded history ends before today: series end at the newest message (to the next hour).
    to = new Date(Math.ceil((newest.rows[0]?.at ?? new Date()).getTime() / 3_600_000) * 3_600_000);
  } finally {
    await client.end();
  }
  if (experiments.length === 0) throw new Error('the database has no experiments: seed and refresh it first');
  const pages = Math.min(MAX_LIST_PAGES, Math.ceil(experiments.length / PAGE));
  const listPages: { path: string; ids: number[] }[] = [];
  for (const sort of EXPERIMENT_SORTS)
    for (const order of ['asc', 'desc'])
      for (let page = 0; page < pages; page++) {
        const path = `/api/experiments?sort=${sort}&order=${order}&limit=${PAGE}&offset=${page * PAGE}`;
        const answer = await fetchText(base, path);
        if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.body}`);
        const ids = (JSON.parse(answer.body) as { rows: { experimentId: number }[] }).rows.map(
          (r) => r.experimentId,
        );
        listPages.push({ path, ids });
      }
  const iso = (ms: number) => new Date(ms).toISOString();
  const next = random(16);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
  const steps: Step[] = [];
  for (let view = 0; view < VIEWS; view++) {
    if (next() < 0.5) {
      const page = pick(listPages);
      steps.push(
        { route: 'GET /api/experiments', path: page.path },
        {
          route: 'GET /api/series',
          path: `/api/series?experiments=${page.ids.join(',')}&from=${iso(to.getTime() - 30 * DAY_MS)}&to=${iso(to.getTime())}`,
        },
      );
    } else {
      const experiment = pick(experiments);
      const offset = Math.floor(next() * Math.max(1, Math.ceil(experiment.sessions / PAGE))) * PAGE;
      steps.push(
        {
          route: 'GET /api/experiments/:id/sessions',
          path: `/api/experiments/${experiment.id}/sessions?sort=${pick(SESSION_SORTS)}&order=${pick(['asc', 'desc'])}&limit=${PAGE}&offset=${offset}`,
        },
        {
          route: 'GET /api/experiments/:id/series',
          path: `/api/experiments/${experiment.id}/series?from=${iso(to.getTime() - 365 * DAY_MS)}&to=${iso(to.getTime())}`,
        },
      );
    }
    steps.push({ route: 'GET /api/status', path: '/api/status' });
  }
  return { steps, to };
}

/** VmRSS of process `pid` in MiB, or null when it is gone. */
function rssMb(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** A gauge's value in a Prometheus text answer, or null when absent. */
function gauge(text: string, name: string): number | null {
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
  return value === undefined ? null : Number(value);
}

/** Runs the load against the server at `base` (process `pid`); see the file's comment. */
export async function runLoad(
  databaseUrl: string,
  server: { base: string; pid: number },
  options: LoadOptions,
): Promise<LoadResult> {
  const idle = rssMb(server.pid) ?? Number.NaN;
  const { steps, to } = await dashboardSteps(databaseUrl, server.base);
  note(
    `load: ${steps.length} requests in the cycle; ${options.connections} connections for ${options.seconds} s`,
  );
  const byRoute = new Map<string, { latencies: number[]; non2xx: number }>();
  const failures: string[] = [];
  const rss: number[] = [];
  const rssStart = rssMb(server.pid) ?? Number.NaN;
  const pool = { waitingMax: 0, connectionsMax: 0, scrapes: 0, failedScrapes: 0 };
  let running = true;
  const rssTimer = setInterval(() => {
    const mb = rssMb(server.pid);
    if (mb !== null) rss.push(mb);
  }, RSS_SAMPLE_MS);
  // One scrape at a time, every METRICS_SAMPLE_MS (a slow one, queued behind the pool, delays the next).
  const scraping = (async () => {
    while (running) {
      const started = Date.now();
      try {
        const answer = await fetchText(server.base, '/metrics');
        const waiting = gauge(answer.body, 'statcache_db_pool_waiting');
        const connections = gauge(answer.body, 'statcache_db_pool_connections');
        if (answer.status !== 200 || waiting === null || connections === null) pool.failedScrapes++;
        else {
          pool.scrapes++;
          pool.waitingMax = Math.max(pool.waitingMax, waiting);
          pool.connectionsMax = Math.max(pool.connectionsMax, connections);
        }
      } catch {
        pool.failedScrapes++;
      }
      const wait = METRICS_SAMPLE_MS - (Date.now() - started);
      if (running && wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  let cursor = 0;
  // onResponse runs just before the 'response' event of the same answer: it says which route it was.
  let answered = '';
  const timeline: { answers: number; maxMs: number }[] = [];
  const timeoutSeconds: number[] = [];
  const before = await cpuSnapshot(databaseUrl, server.pid);
  const started = performance.now();
  const second = () => Math.floor((performance.now() - started) / 1000);
  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon(
      {
        url: server.base,
        connections: options.connections,
        duration: options.seconds,
        timeout: TIMEOUT_S,
        requests: [
          {
            setupRequest: (request, context) => {
              const step = steps[cursor++ % steps.length] as Step;
              context.route = step.route;
              return { ...request, path: step.path };
            },
            onResponse: (status, body, context) => {
              answered = String(context.route);
              if ((status < 200 || status > 299) && failures.length < 3)
                failures.push(`${answered} → ${status}: ${body.slice(0, 200)}`);
            },
          },
        ],
      },
      (error, res) => (error ? fail(error) : done(res)),
    );
    instance.on('reqError', (error: Error) => {
      if (error.message.includes('timed out')) timeoutSeconds.push(second());
    });
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      const at = second();
      while (timeline.length <= at) timeline.push({ answers: 0, maxMs: 0 });
      const slot = timeline[at] as { answers: number; maxMs: number };
      slot.answers++;
      slot.maxMs = Math.max(slot.maxMs, ms);
      const figures = byRoute.get(answered) ?? { latencies: [], non2xx: 0 };
      byRoute.set(answered, figures);
      figures.latencies.push(ms);
      if (status < 200 || status > 299) figures.non2xx++;
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const after = await cpuSnapshot(databaseUrl, server.pid);
  running = false;
  clearInterval(rssTimer);
  const rssEnd = rssMb(server.pid) ?? Number.NaN;
  await scraping;
  const all = [...byRoute.values()].flatMap((r) => r.latencies);
  const routes = [...byRoute.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, r]) => ({
      route,
      requests: r.latencies.length,
      non2xx: r.non2xx,
      p50: percentile(r.latencies, 50),
      p95: percentile(r.latencies, 95),
      p99: percentile(r.latencies, 99),
      max: percentile(r.latencies, 100),
    }));
  const load: LoadResult = {
    ...options,
    requests: all.length,
    perSecond: all.length / seconds,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    p99: percentile(all, 99),
    max: percentile(all, 100),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    routes,
    failures,
    rssMb: { idle, start: rssStart, max: Math.max(rssStart, rssEnd, ...rss), end: rssEnd },
    pool,
    seriesTo: to.toISOString(),
    timeline,
    timeoutSeconds,
    cores: coresBusy(before, after, seconds),
  };
  note(
    `load: ${load.requests} requests (${load.perSecond.toFixed(0)}/s), p50 ${formatMs(load.p50)} p95 ${formatMs(load.p95)} p99 ${formatMs(load.p99)} max ${formatMs(load.max)}; ${load.errors} errors (${load.timeouts} timeouts), ${load.non2xx} non-2xx; RSS ${load.rssMb.start.toFixed(0)}/${load.rssMb.max.toFixed(0)}/${load.rssMb.end.toFixed(0)} MB; pool waiting max ${pool.waitingMax}`,
  );
  const c = load.cores;
  note(
    `load: cores busy: server ${c.server.toFixed(2)}, PostgreSQL backends ${c.postgres.toFixed(2)}, parallel workers and postmaster ${c.postmaster.toFixed(2)}, load generator ${c.load.toFixed(2)}, other ${c.other.toFixed(2)}; answers per second ${timeline.map((t) => t.answers).join(' ')}`,
  );
  if (timeoutSeconds.length > 0) note(`load: timeouts in seconds ${timeoutSeconds.join(', ')}`);
  for (const failure of failures) note(`load: ${failure}`);
  return load;
}

/** Average cores each part kept busy between two CPU snapshots `seconds` apart. */
function coresBusy(before: CpuSnapshot, after: CpuSnapshot, seconds: number): LoadResult['cores'] {
  const cores = (ticks: number) => ticks / TICKS_PER_S / seconds;
  // A backend that was not there before started during the load: all its ticks count.
  const postgresTicks = [...after.backends].reduce(
    (sum, [pid, ticks]) => sum + ticks - (before.backends.get(pid) ?? 0),
    0,
  );
  const server = cores(after.server - before.server);
  const postgres = cores(postgresTicks);
  const postmaster = cores(after.postmaster - before.postmaster);
  const load = cores(after.load - before.load);
  const machine = cores(after.machine - before.machine);
  const other = Math.max(0, machine - server - postgres - postmaster - load);
  return { server, postgres, postmaster, load, other, machine };
}

/** RSS bound of the target; see the section's text for why. */
export const RSS_BOUND_MB = 300;

/** The section of docs/benchmarks.md for a load result. */
export function loadSection(
  heading: string,
  r: LoadResult,
  context: { command: string; machine: string; database: string; poolSize: number },
): string[] {
  const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const mb = (value: number) => `${value.toFixed(0)} MB`;
  const failed = r.errors + r.non2xx;
  // Whole seconds only: not the last, cut short by the end of the run.
  const whole = r.timeline.slice(0, r.seconds);
  const answers = whole.map((t) => t.answers);
  const slowest = whole.reduce((at, t, i) => (t.maxMs > (whole[at]?.maxMs ?? 0) ? i : at), 0);
  const fewest = answers.indexOf(Math.min(...answers));
  const c = r.cores;
  return [
    heading,
    '',
    `- Date: ${new Date().toISOString().slice(0, 10)}; command: \`${context.command}\``,
    `- Machine: ${context.machine}; database: ${context.database}; server, load generator and PostgreSQL on the same machine (loopback)`,
    `- One \`statcache serve\` process (pool of ${context.poolSize} connections), after its cache was built; autocannon keeps ${r.connections} keep-alive connections with one request in flight on each for ${r.seconds} s, so up to ${r.connections} requests wait on ${context.poolSize} connections. The mix is the web page's: half the page views are the experiments page (\`/api/experiments\` by one of 5 sorts × 2 orders × page, then \`/api/series\` for that page's 25 ids over 30 days), half an experiment's page (\`/api/experiments/:id/sessions\` by one of 4 sorts × 2 orders × page, and \`/api/experiments/:id/series\` over 365 days), each with \`/api/status\`; ids from the database, series ending at the newest message (${r.seriesTo}). Latency from send to last byte; RSS of the server from /proc every second; the pool's gauges from \`GET /metrics\` every 2 s on a connection of its own (read before that scrape's own statement asks the pool).`,
    `- Cores busy on average during the load (of ${cpus().length}): server ${c.server.toFixed(2)}, its PostgreSQL backends ${c.postgres.toFixed(2)}, PostgreSQL's parallel workers and postmaster ${c.postmaster.toFixed(2)}, the load generator ${c.load.toFixed(2)}, the rest of the machine ${c.other.toFixed(2)} (from /proc). Answers per second: median ${percentile(answers, 50)}, fewest ${answers[fewest]} (second ${fewest}); the slowest answer came in second ${slowest} (second 0 opens all ${r.connections} connections at once)${r.timeoutSeconds.length > 0 ? `; timeouts in seconds ${[...new Set(r.timeoutSeconds)].join(', ')}` : ''}.`,
    `- RSS bound: ${RSS_BOUND_MB} MB, ${(RSS_BOUND_MB / r.rssMb.idle).toFixed(1)}× the idle server's ${mb(r.rssMb.idle)} (express, bull-board and the queue client loaded, before any request): room for ${r.connections} sockets, their buffers and the answers in flight, while memory kept per request would cross it from ${(((RSS_BOUND_MB - r.rssMb.start) * 1024) / r.requests).toFixed(0)} KB a request (${r.requests.toLocaleString('en')} requests).`,
    '',
    '| route | requests | p50 | p95 | p99 | max | non-2xx |',
    '|---|---|---|---|---|---|---|',
    ...r.routes.map(
      (x) =>
        `| \`${x.route}\` | ${x.requests.toLocaleString('en')} | ${formatMs(x.p50)} | ${formatMs(x.p95)} | ${formatMs(x.p99)} | ${formatMs(x.max)} | ${x.non2xx} |`,
    ),
    `| all | ${r.requests.toLocaleString('en')} (${r.perSecond.toFixed(1)} req/s) | ${formatMs(r.p50)} | ${formatMs(r.p95)} | ${formatMs(r.p99)} | ${formatMs(r.max)} | ${r.non2xx} |`,
    '',
    '| target | value | result |',
    '|---|---|---|',
    `| no failed request (errors + timeouts + non-2xx) | ${r.errors - r.timeouts} + ${r.timeouts} + ${r.non2xx} = ${failed} | ${pass(failed === 0)} |`,
    `| requests beyond the pool queued: \`statcache_db_pool_waiting\` max over ${r.pool.scrapes} scrapes${r.pool.failedScrapes ? ` (${r.pool.failedScrapes} failed)` : ''} > 0 | ${r.pool.waitingMax} waiting, ${r.pool.connectionsMax} connections | ${pass(r.pool.waitingMax > 0 && r.pool.connectionsMax <= context.poolSize)} |`,
    `| server RSS max < ${RSS_BOUND_MB} MB (start ${mb(r.rssMb.start)}, end ${mb(r.rssMb.end)}) | ${mb(r.rssMb.max)} | ${pass(r.rssMb.max < RSS_BOUND_MB)} |`,
  ];
}
