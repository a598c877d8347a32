/**
 * A real worker under write load, for bench:worker: worker processes as production runs them (RSS
 * sampled from /proc), a writer at a fixed rate of human messages, and the lag of every write until
 * getExperimentTotals counts it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { bigintArray } from '../src/db/params.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import type { BenchDatabase } from './bench-database.js';
import { note, percentile } from './measure.js';

export const REFRESH_EVERY_MS = 5_000;
const WRITE_TICK_MS = 100;
const POLL_MS = 200;
const RSS_SAMPLE_MS = 250;
export const EXPERIMENTS_WRITTEN = 20;
/** Messages per insert statement at `rate` per second. */
export const perTickOf = (rate: number) => Math.max(1, Math.round((rate * WRITE_TICK_MS) / 1000));
export const WRITE_TICK = WRITE_TICK_MS;
export const POLL = POLL_MS;

export interface FreshnessResult {
  writes: number;
  messages: number;
  seconds: number;
  rate: number;
  workers: number;
  /** Writes not visible 60 s after the writer stopped. */
  unseen: number;
  p50: number;
  p99: number;
  max: number;
  peakRssMb: number;
  exitCode: number | null;
}

/** The worker as production runs it, with its RSS sampled from /proc while it lives. */
export function spawnWorker(databaseUrl: string, prefix: string) {
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

export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

/**
 * Runs `workers` worker processes on `bench` while a writer inserts `rate` human messages per second
 * for `seconds`; polls getExperimentTotals until every write is visible (or 60 s after the writer
 * stops) and returns the lag of each write.
 */
export async function freshnessRun(
  bench: BenchDatabase,
  options: { rate: number; seconds: number; workers: number },
): Promise<FreshnessResult> {
  const prefix = `bench-worker-${process.pid}-${Date.now()}`;
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
    const workers = Array.from({ length: options.workers }, () => spawnWorker(bench.url, prefix));
    for (const worker of workers) await worker.waitFor('worker started', 600_000);
    note(
      `${options.workers} worker(s) started; writing ${options.rate} human messages/s for ${options.seconds} s`,
    );
    const base = await getExperimentTotals(bench.db, experiments);
    // Per experiment: the cumulative count after each write, with its time.
    const writes = new Map<number, { total: number; at: number }[]>();
    const written = new Map<number, number>();
    const lags: number[] = [];
    const seen = new Map<number, number>();
    const perTick = perTickOf(options.rate);
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
    const codes = await Promise.all(workers.map((w) => w.stop()));
    return {
      writes: tick,
      messages: tick * perTick,
      seconds: options.seconds,
      rate: options.rate,
      workers: options.workers,
      unseen,
      p50: percentile(lags, 50),
      p99: percentile(lags, 99),
      max: percentile(lags, 100),
      peakRssMb: Math.max(...workers.map((w) => w.peakRssMb())),
      exitCode: codes.find((c) => c !== 0) ?? 0,
    };
  } finally {
    await dropPrefix(prefix);
  }
}
