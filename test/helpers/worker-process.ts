/**
 * `statcache worker` as a child process, the way production runs it: its pino JSON lines are parsed
 * as they arrive so tests can wait for a given log line; signals and kill -9 are real.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const BIN = resolve('bin/statcache.js');

export interface LogLine {
  msg: string;
  level: number;
  time: number;
  [field: string]: unknown;
}

/** A unique BullMQ prefix per test file, so files share Redis without seeing each other's queues. */
export function uniquePrefix(): string {
  return `sctest-${randomBytes(5).toString('hex')}`;
}

/** Worker settings fast enough for tests: refresh every 300 ms, quick retries, short locks. */
export function fastWorkerEnv(databaseUrl: string, prefix: string, extra: Record<string, string> = {}) {
  return {
    DATABASE_URL: databaseUrl,
    STATCACHE_QUEUE_PREFIX: prefix,
    STATCACHE_REFRESH_EVERY_MS: '300',
    STATCACHE_JOB_ATTEMPTS: '20',
    STATCACHE_JOB_BACKOFF_MS: '100',
    STATCACHE_JOB_LOCK_MS: '2000',
    STATCACHE_SHUTDOWN_TIMEOUT_MS: '20000',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  stderr = '';
  private readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [BIN, 'worker'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ msg: line, level: 0, time: Date.now() });
        }
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.exited.then(() => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves with the first log line (from index `from`) matching `match`; rejects after `timeoutMs`. */
  async waitForLog(match: (line: LogLine) => boolean, timeoutMs = 30_000, from = 0): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(
          `no matching log line within ${timeoutMs} ms (exit ${this.child.exitCode}); last lines:\n${this.logs
            .slice(-8)
            .map((l) => JSON.stringify(l))
            .join('\n')}\n${this.stderr}`,
        );
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }

  exitCode(): Promise<number | null> {
    return this.exited;
  }
}

export const completed = (job: string) => (line: LogLine) => line.msg === 'job completed' && line.job === job;

/** A queue handle on the test's prefix, for inspecting schedulers and counts. */
export function inspectQueue(prefix: string, redisUrl = 'redis://127.0.0.1:6379') {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('statcache', { connection, prefix });
  return {
    queue,
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}

/** Deletes every key of a test prefix. */
export async function dropPrefix(prefix: string, redisUrl = 'redis://127.0.0.1:6379'): Promise<void> {
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

/**
 * Once the change rows are drained, a refresh that claimed the last of them may still be committing
 * its recounts: waits for one more completed refresh on each worker.
 */
export async function oneMoreRefreshEach(
  workers: readonly WorkerProcess[],
  timeoutMs = 30_000,
): Promise<void> {
  const marks = workers.map((w) => w.logs.length);
  await Promise.all(workers.map((w, i) => w.waitForLog(completed('refresh'), timeoutMs, marks[i])));
}
