/**
 * `npm run bench:serve -- --database-url URL [--requests N] [--live-requests M] [--load-only]
 * [--load-seconds S] [--load-connections C]`: the dashboard under load, on a seeded, refreshed
 * database (e.g. `statcache seed --messages 10000000` then `statcache refresh --full`, or the one kept by
 * `npm run bench -- --messages 10000000 --keep`), against `statcache serve` run as a child process.
 * First the concurrent-load comparison: `GET /api/experiments?limit=25` at concurrency 10 and 20 for a
 * fixed number of requests, then the same against bench/live-server.ts (the page counted live).
 * Then (alone with --load-only) the load test of bench/serve-load.ts: C connections (200) for S
 * seconds (60) on the web page's mix of routes, with the server's RSS and its pool's waiting
 * requests (from /metrics) sampled throughout: no request may fail, those beyond the pool's
 * connections queue. The load comes from autocannon (keep-alive connections, one request in flight
 * on each, a lean HTTP client so the load generator takes little of the CPU the server shares with
 * it); every request's latency is kept from its 'response' event. Writes a section of
 * docs/benchmarks.md for each part.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { formatMs, note, percentile } from './measure.js';
import { machineDescription, postgresVersion, replaceSection } from './report.js';
import { loadSection, runLoad } from './serve-load.js';

const HEADING = '## Dashboard: concurrent load, cached vs live';
/** Connections of `statcache serve`'s pool (SERVER_POOL_SIZE in cli/commands/serve.ts). */
const SERVER_POOL_SIZE = 10;
const PATH = '/api/experiments?limit=25';
const WARMUP = 20;

interface Run {
  mode: 'cached' | 'live';
  concurrency: number;
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  perSecond: number;
}

function parseArgs(argv: string[]) {
  const options = {
    databaseUrl: '',
    requests: 2000,
    liveRequests: 40,
    loadOnly: false,
    loadSeconds: 60,
    loadConnections: 200,
  };
  const counts: Record<string, 'requests' | 'liveRequests' | 'loadSeconds' | 'loadConnections'> = {
    '--requests': 'requests',
    '--live-requests': 'liveRequests',
    '--load-seconds': 'loadSeconds',
    '--load-connections': 'loadConnections',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag = '', value] = [argv[i], argv[i + 1]];
    const count = counts[flag];
    if (flag === '--load-only') {
      options.loadOnly = true;
      i--;
    } else if (flag === '--database-url' && value) options.databaseUrl = value;
    else if (count && Number.isSafeInteger(Number(value)) && Number(value) > 0)
      options[count] = Number(value);
    else
      throw new Error(
        `bad option '${flag} ${value ?? ''}'; use --database-url URL, --requests N, --live-requests M, --load-only, --load-seconds S, --load-connections C`,
      );
  }
  if (!options.databaseUrl) throw new Error('--database-url is required (a seeded, refreshed database)');
  return options;
}

async function startServer(
  databaseUrl: string,
  live: boolean,
): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    live ? [resolve('dist/bench/live-server.js')] : [resolve('bin/statcache.js'), 'serve', '--port', '0'],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const base = await new Promise<string>((done, fail) => {
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const match = /serving on (http:\/\/[^/]+)\//.exec(err);
      if (match?.[1]) done(match[1]);
    });
    child.once('exit', (code) => fail(new Error(`serve exited ${code}: ${err}`)));
  });
  return { base, child };
}

/** Sends `requests` GETs of PATH over `concurrency` connections; resolves with each one's latency. */
function fire(
  base: string,
  concurrency: number,
  requests: number,
): Promise<{ latencies: number[]; errors: number; seconds: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  return new Promise((done, fail) => {
    const instance = autocannon(
      // A live page at concurrency 20 takes minutes; only a hung server should time out.
      { url: `${base}${PATH}`, connections: concurrency, amount: requests, timeout: 900 },
      (error, result) => {
        if (error) fail(error);
        else
          done({
            latencies,
            errors: result.errors + result.timeouts + result.non2xx,
            seconds: (performance.now() - started) / 1000,
          });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
    });
  });
}

async function load(base: string, mode: Run['mode'], concurrency: number, requests: number): Promise<Run> {
  await fire(base, 1, WARMUP);
  const { latencies, errors, seconds } = await fire(base, concurrency, requests);
  const run: Run = {
    mode,
    concurrency,
    requests: latencies.length,
    errors,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    perSecond: latencies.length / seconds,
  };
  note(
    `${mode} c=${concurrency}: p50 ${formatMs(run.p50)} p95 ${formatMs(run.p95)} p99 ${formatMs(run.p99)}, ${run.errors} errors`,
  );
  return run;
}

/** Messages, experiments and experiment buckets per size, for the sections' database line. */
async function databaseInfo(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const info = await client.query<{ messages: string; experiments: string; buckets: string }>(
      `select (select count(*) from chat_messages)::text as messages,
              (select count(*) from experiments)::text as experiments,
              (select string_agg(n || ' ' || bucket_size, ', ' order by bucket_size desc)
               from (select bucket_size, count(*)::text as n from experiment_statistics_buckets group by 1) b) as buckets`,
    );
    return {
      messages: Number(info.rows[0]?.messages ?? 0).toLocaleString('en'),
      experiments: Number(info.rows[0]?.experiments ?? 0).toLocaleString('en'),
      buckets: info.rows[0]?.buckets ?? 'none',
    };
  } finally {
    await client.end();
  }
}

/** The comparison: cached then live, at concurrency 10 and 20; writes its section. */
async function compare(
  options: ReturnType<typeof parseArgs>,
  info: Awaited<ReturnType<typeof databaseInfo>>,
  machine: string,
  args: string,
) {
  const { messages, experiments, buckets } = info;
  const runs: Run[] = [];
  for (const live of [false, true]) {
    const server = await startServer(options.databaseUrl, live);
    try {
      for (const concurrency of [10, 20])
        runs.push(
          await load(
            server.base,
            live ? 'live' : 'cached',
            concurrency,
            live ? options.liveRequests : options.requests,
          ),
        );
    } finally {
      server.child.kill('SIGTERM');
    }
  }
  const find = (mode: Run['mode'], c: number) =>
    runs.find((r) => r.mode === mode && r.concurrency === c) as Run;
  const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const row = (r: Run) =>
    `| ${r.mode} | ${r.concurrency} | ${r.requests.toLocaleString('en')} | ${formatMs(r.p50)} | ${formatMs(r.p95)} | ${formatMs(r.p99)} | ${formatMs(r.max)} | ${r.perSecond.toFixed(1)} | ${r.errors} |`;
  const lines = [
    HEADING,
    '',
    `- Date: ${new Date().toISOString().slice(0, 10)}; command: \`npm run bench:serve -- ${args}\``,
    `- Machine: ${machine}; database: ${messages} messages, ${experiments} experiments, experiment buckets ${buckets}; server and load on the same machine`,
    `- \`GET ${PATH}\`, load from autocannon (one request in flight per connection), each request timed from send to last byte, after ${WARMUP} warm-up requests; "live" is \`statcache serve --live\`, the same page counted from the chat tables.`,
    '',
    '| source | concurrency | requests | p50 | p95 | p99 | max | req/s | errors |',
    '|---|---|---|---|---|---|---|---|---|',
    ...runs.map(row),
    '',
    '| target | value | result |',
    '|---|---|---|',
    `| cached p99 at concurrency 20 < 50 ms | ${formatMs(find('cached', 20).p99)} | ${pass(find('cached', 20).p99 < 50)} |`,
    ...[10, 20].map(
      (c) =>
        `| live p95 / cached p95 ≥ 100 at concurrency ${c} | ${(find('live', c).p95 / find('cached', c).p95).toFixed(0)}× | ${pass(find('live', c).p95 / find('cached', c).p95 >= 100)} |`,
    ),
    `| no errors | ${runs.reduce((a, r) => a + r.errors, 0)} | ${pass(runs.every((r) => r.errors === 0))} |`,
  ];
  replaceSection(HEADING, lines);
  note('wrote docs/benchmarks.md');
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const info = await databaseInfo(options.databaseUrl);
  const machine = machineDescription(await postgresVersion(options.databaseUrl));
  const args = process.argv
    .slice(2)
    .map((a) => (a.startsWith('postgres') ? '<url>' : a))
    .join(' ');
  if (!options.loadOnly) await compare(options, info, machine, args);
  const server = await startServer(options.databaseUrl, false);
  try {
    const result = await runLoad(
      options.databaseUrl,
      { base: server.base, pid: server.child.pid as number },
      { seconds: options.loadSeconds, connections: options.loadConnections },
    );
    const heading = `## Dashboard: ${options.loadConnections} connections for ${options.loadSeconds} s`;
    replaceSection(
      heading,
      loadSection(heading, result, {
        command: `npm run bench:serve -- ${args}`,
        machine,
        database: `${info.messages} messages, ${info.experiments} experiments, experiment buckets ${info.buckets}`,
        poolSize: SERVER_POOL_SIZE,
      }),
    );
    note('wrote docs/benchmarks.md');
    if (result.errors + result.non2xx > 0) process.exitCode = 1;
  } finally {
    server.child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
