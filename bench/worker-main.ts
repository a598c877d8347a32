/**
 * `npm run bench:worker [-- --messages N] [--seconds S] [--rate R] [--rebuild-messages M]`: freshness
 * and memory of a real worker. A `statcache worker` process (refresh every 5 s) runs against a seeded database
 * while a writer inserts R human messages per second for S seconds; every 200 ms the bench reads
 * `getExperimentTotals` and notes when each write became visible (its lag). The worker's RSS is
 * sampled from /proc throughout, and again while a worker runs the first full build of an
 * M-message database. Writes its section of docs/benchmarks.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { bigintArray } from '../src/db/params.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { createBenchDatabase } from './bench-database.js';
import { formatMs, note, percentile } from './measure.js';
import { machineDescription, postgresVersion, replaceSection } from './report.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
const REFRESH_EVERY_MS = 5_000;
const WRITE_TICK_MS = 100;
const POLL_MS = 200;
const RSS_SAMPLE_MS = 250;
const EXPERIMENTS_WRITTEN = 20;
const HEADING = '## Worker: freshness under load and memory';

function parseArgs(argv: string[]) {
  const options = { messages: 1_000_000, seconds: 120, rate: 500, rebuildMessages: 10_000_000 };
  const keys: Record<string, keyof typeof options> = {
    '--messages': 'messages',
    '--seconds': 'seconds',
    '--rate': 'rate',
    '--rebuild-messages': 'rebuildMessages',
  };
  for (let i = 0; i < argv.length; i++) {
    const key = keys[argv[i] as string];
    const value = Number(argv[i + 1]);
    if (!key)
      throw new Error(
        `unknown option '${argv[i]}'; use --messages N, --seconds S, --rate R, --rebuild-messages M`,
      );
    if (!Number.isSafeInteger(value) || value < 1)
      throw new Error(`${argv[i]} needs a positive whole number (got '${argv[i + 1]}')`);
    options[key] = value;
    i++;
  }
  return options;
}

/** The worker as production runs it, with its RSS sampled from /proc while it lives. */
function spawnWorker(databaseUrl: string, prefix: string) {
  const child: ChildProcess = spawn(process.execPath, [resolve('bin/statcache.js'), 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      STATCACHE_QUEUE_PREFIX: prefix,
      STATCACHE_REFRESH_EVERY_MS: String(REFRESH_EVERY_MS),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  let peakRssKb = 0;
  const sampler = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
      peakRssKb = Math.max(peakRssKb, kb);
    } catch {
      // The process is gone.
    }
  }, RSS_SAMPLE_MS);
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return {
    lines,
    peakRssMb: () => peakRssKb / 1024,
    waitFor: async (text: string, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!lines.some((l) => l.includes(text))) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(
            `the worker did not log '${text}' (exit ${child.exitCode}): ${lines.slice(-3).join('\n')}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      clearInterval(sampler);
      return code;
    },
  };
}

async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

async function freshness(options: ReturnType<typeof parseArgs>) {
  const bench = await createBenchDatabase(ADMIN_URL, options.messages, {
    databaseName: 'statcache_bench_worker',
  });
  const prefix = `bench-worker-${process.pid}`;
  try {
    const experiments = (
      await queryRows<{ id: unknown }>(
        bench.db,
        sql`select id from experiments order by id limit ${EXPERIMENTS_WRITTEN}`,
      )
    ).map((r) => toNumber(r.id));
    const chats = await queryRows<{ experiment_id: unknown; chat_id: unknown }>(
      bench.db,
      sql`select distinct on (experiment_id) experiment_id, chat_id from experiment_sessions
          where experiment_id = any(${bigintArray(experiments)}) and platform <> 'evaluations' order by experiment_id, id`,
    );
    const worker = spawnWorker(bench.url, prefix);
    await worker.waitFor('worker started', 600_000);
    note('worker started (first full build done); writing');
    const base = await getExperimentTotals(bench.db, experiments);
    // Per experiment: the cumulative count after each write, with its time.
    const writes = new Map<number, { total: number; at: number }[]>();
    const written = new Map<number, number>();
    const lags: number[] = [];
    const seen = new Map<number, number>();
    const perTick = Math.max(1, Math.round((options.rate * WRITE_TICK_MS) / 1000));
    const end = Date.now() + options.seconds * 1000;
    let tick = 0;
    const writer = (async () => {
      while (Date.now() < end) {
        const started = Date.now();
        const target = chats[tick % chats.length] as { experiment_id: unknown; chat_id: unknown };
        const experimentId = toNumber(target.experiment_id);
        await bench.db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
          select ${toNumber(target.chat_id)}, 'human', now() from generate_series(1, ${perTick})`);
        const total = (written.get(experimentId) ?? 0) + perTick;
        written.set(experimentId, total);
        const list = writes.get(experimentId) ?? [];
        list.push({ total, at: Date.now() });
        writes.set(experimentId, list);
        tick++;
        await new Promise((r) => setTimeout(r, Math.max(0, WRITE_TICK_MS - (Date.now() - started))));
      }
    })();
    const poller = (async () => {
      // Poll until every write is visible (or 60 s after the writer stops).
      for (;;) {
        const now = Date.now();
        const totals = await getExperimentTotals(bench.db, experiments);
        let outstanding = 0;
        for (const [id, list] of writes) {
          const visible = (totals.get(id)?.humanMessages ?? 0) - (base.get(id)?.humanMessages ?? 0);
          let done = seen.get(id) ?? 0;
          while (done < list.length && (list[done] as { total: number }).total <= visible) {
            lags.push(now - (list[done] as { at: number }).at);
            done++;
          }
          seen.set(id, done);
          outstanding += list.length - done;
        }
        if (now > end && (outstanding === 0 || now > end + 60_000)) return outstanding;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    })();
    await writer;
    const unseen = await poller;
    const code = await worker.stop();
    const seconds = options.seconds;
    return {
      writes: tick,
      messages: tick * perTick,
      seconds,
      unseen,
      p50: percentile(lags, 50),
      p99: percentile(lags, 99),
      max: percentile(lags, 100),
      peakRssMb: worker.peakRssMb(),
      exitCode: code,
    };
  } finally {
    await dropPrefix(prefix);
    await bench.drop();
  }
}

async function rebuildMemory(messages: number) {
  const bench = await createBenchDatabase(ADMIN_URL, messages, { databaseName: 'statcache_bench_worker' });
  const prefix = `bench-worker-rebuild-${process.pid}`;
  try {
    const worker = spawnWorker(bench.url, prefix);
    const started = Date.now();
    await worker.waitFor('first full build of the cache done', 3_600_000);
    const buildMs = Date.now() - started;
    await worker.stop();
    return { messages, buildMs, peakRssMb: worker.peakRssMb() };
  } finally {
    await dropPrefix(prefix);
    await bench.drop();
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const fresh = await freshness(options);
  note(
    `lag p50 ${formatMs(fresh.p50)}, p99 ${formatMs(fresh.p99)}, peak RSS ${fresh.peakRssMb.toFixed(0)} MB`,
  );
  const rebuild = await rebuildMemory(options.rebuildMessages);
  note(
    `first full build of ${rebuild.messages} messages in ${formatMs(rebuild.buildMs)}, peak RSS ${rebuild.peakRssMb.toFixed(0)} MB`,
  );
  const version = await postgresVersion(ADMIN_URL);
  const target = REFRESH_EVERY_MS + 5_000;
  const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const args = process.argv.slice(2).join(' ');
  replaceSection(HEADING, [
    HEADING,
    '',
    `- Date: ${new Date().toISOString().slice(0, 10)}; command: \`npm run bench:worker${args ? ` -- ${args}` : ''}\``,
    `- Machine: ${machineDescription(version)}`,
    `- One \`statcache worker\` process, refresh every ${REFRESH_EVERY_MS / 1000} s, on a ${options.messages.toLocaleString('en')}-message seeded database; a writer inserts ${options.rate} human messages/s (${Math.round((options.rate * WRITE_TICK_MS) / 1000)} every ${WRITE_TICK_MS} ms, round-robin over ${EXPERIMENTS_WRITTEN} experiments) for ${fresh.seconds} s; lag = from the insert's commit to the first \`getExperimentTotals\` poll (every ${POLL_MS} ms) that counts it.`,
    '',
    '| measurement | value | target |',
    '|---|---|---|',
    `| writes visible (of ${fresh.writes.toLocaleString('en')} inserts, ${fresh.messages.toLocaleString('en')} messages) | ${(fresh.writes - fresh.unseen).toLocaleString('en')} | all ${pass(fresh.unseen === 0)} |`,
    `| lag p50 | ${formatMs(fresh.p50)} | |`,
    `| lag p99 (max ${formatMs(fresh.max)}) | ${formatMs(fresh.p99)} | ≤ interval + 5 s = ${formatMs(target)} ${pass(fresh.p99 <= target)} |`,
    `| worker peak RSS under that load | ${fresh.peakRssMb.toFixed(0)} MB | < 200 MB ${pass(fresh.peakRssMb < 200)} |`,
    `| worker peak RSS during the first full build of ${rebuild.messages.toLocaleString('en')} messages (${formatMs(rebuild.buildMs)} from start) | ${rebuild.peakRssMb.toFixed(0)} MB | < 200 MB ${pass(rebuild.peakRssMb < 200)} |`,
    `| worker exit code after SIGTERM | ${fresh.exitCode} | 0 ${pass(fresh.exitCode === 0)} |`,
  ]);
  note('wrote docs/benchmarks.md');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
