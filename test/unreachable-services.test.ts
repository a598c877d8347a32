/**
 * Servers that accept connections but never answer, ports that are another service's, and a Redis
 * database that does not exist: every one-shot command fails within its timeout with one line
 * naming the variable and host:port, instead of hanging or answering from the wrong place; `status`
 * reads the queue without writing to Redis. The servers are the test's own, on ports the OS hands out.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/setup.js';
import { dropPrefix, uniquePrefix } from './helpers/worker-process.js';

const t = useTestDatabase({ built: true });

/** A TCP server on 127.0.0.1: `silent` accepts and never writes; `http` answers like a web server. */
async function listen(mode: 'silent' | 'http'): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    if (mode === 'http')
      socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}

let silent: Awaited<ReturnType<typeof listen>>;
let http: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  [silent, http] = await Promise.all([listen('silent'), listen('http')]);
});
afterAll(async () => {
  await Promise.all([silent?.close(), http?.close()]);
});

/** Runs the CLI and returns what it printed and how long it took, in ms. */
async function timed(args: string[], databaseUrl: string, env: Record<string, string> = {}) {
  const started = performance.now();
  const result = await runCli(args, databaseUrl, env);
  return { ...result, ms: performance.now() - started, lines: result.stderr.trim().split('\n') };
}

describe('PostgreSQL', () => {
  it('a server that never answers: status fails within the connect timeout, naming DATABASE_URL and host:port', async () => {
    const url = `postgres://postgres@127.0.0.1:${silent.port}/chat`;
    const result = await timed(['status'], url, { STATCACHE_PG_CONNECT_TIMEOUT_MS: '1000' });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `statcache: cannot connect to PostgreSQL at 127.0.0.1:${silent.port}/chat (no answer within 1000 ms; STATCACHE_PG_CONNECT_TIMEOUT_MS sets the wait); check DATABASE_URL and that the server is running`,
    ]);
    // Not a speed target: only that it gave up instead of hanging (it hung until killed before).
    expect(result.ms).toBeLessThan(15_000);
  }, 30_000);

  it('the default connect timeout gives up within seconds too, and --json says it once on stdout', async () => {
    const url = `postgres://postgres@127.0.0.1:${silent.port}/chat`;
    const result = await timed(['totals', '--experiment', '1', '--json'], url);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        name: 'DatabaseUnreachableError',
        message: `cannot connect to PostgreSQL at 127.0.0.1:${silent.port}/chat (no answer within 5000 ms; STATCACHE_PG_CONNECT_TIMEOUT_MS sets the wait); check DATABASE_URL and that the server is running`,
      },
    });
    expect(result.ms).toBeLessThan(20_000);
  }, 30_000);

  it('a port that is not PostgreSQL: one line naming host:port instead of "Connection terminated unexpectedly"', async () => {
    const result = await timed(['status'], `postgres://postgres@127.0.0.1:${http.port}/chat`);
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `statcache: cannot connect to PostgreSQL at 127.0.0.1:${http.port}/chat (the server closed the connection: is it PostgreSQL, and is it running?); check DATABASE_URL and that the server is running`,
    ]);
  }, 30_000);

  it('a statement running past STATCACHE_READ_TIMEOUT_MS is cancelled by the server', async () => {
    // A read command's statements carry statement_timeout; hold the table it reads so it waits.
    const experimentId = await t.fixture.experiment(await t.fixture.team());
    const holder = await t.db.$client.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table experiments in access exclusive mode');
      const result = await timed(['totals', '--experiment', String(experimentId)], t.url, {
        STATCACHE_READ_TIMEOUT_MS: '300',
      });
      expect(result.code).toBe(1);
      expect(result.lines).toEqual([
        'statcache: a statement ran longer than 300 ms and PostgreSQL cancelled it; STATCACHE_READ_TIMEOUT_MS sets the limit (0 for none)',
      ]);
    } finally {
      await holder.query('rollback');
      holder.release();
    }
  }, 30_000);
});

describe('Redis', () => {
  it('a server that never answers: enqueue and status fail within the connect timeout, naming REDIS_URL and host:port', async () => {
    const env = { REDIS_URL: `redis://127.0.0.1:${silent.port}`, STATCACHE_REDIS_CONNECT_TIMEOUT_MS: '1000' };
    const reason = `cannot connect to Redis at 127.0.0.1:${silent.port} (no answer within 1000 ms; STATCACHE_REDIS_CONNECT_TIMEOUT_MS sets the wait); check REDIS_URL and that the server is running`;
    const [enqueue, status] = await Promise.all([
      timed(['enqueue', 'refresh'], t.url, env),
      timed(['status', '--json'], t.url, env),
    ]);
    expect(enqueue.code).toBe(1);
    expect(enqueue.lines).toEqual([`statcache: ${reason}`]);
    expect(enqueue.ms).toBeLessThan(15_000);
    // status prints the cache's part and then says the queue could not be read.
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).queueError).toBe(reason);
    expect(status.ms).toBeLessThan(15_000);
  }, 30_000);

  it('a port that is not Redis: says so instead of "Protocol error … Please report this"', async () => {
    const result = await timed(['enqueue', 'refresh'], t.url, {
      REDIS_URL: `redis://127.0.0.1:${http.port}`,
    });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `statcache: cannot connect to Redis at 127.0.0.1:${http.port} (what answered is not Redis (Protocol error, got "H" as reply type byte); is that another service's port?); check REDIS_URL and that the server is running`,
    ]);
  }, 30_000);

  it('a database number the server does not have is bad configuration (it used database 0 silently)', async () => {
    const prefix = uniquePrefix();
    const result = await timed(['enqueue', 'refresh'], t.url, {
      REDIS_URL: 'redis://127.0.0.1:6379/99',
      STATCACHE_QUEUE_PREFIX: prefix,
    });
    expect(result.code).toBe(2);
    expect(result.lines).toEqual([
      "statcache: REDIS_URL names database 99, which the Redis there does not have (ERR DB index is out of range); use one below its `databases` setting (16 unless changed), e.g. redis://127.0.0.1:6379/0 (got 'redis://127.0.0.1:6379/99')",
    ]);
    const redis = new Redis('redis://127.0.0.1:6379/0');
    try {
      expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 30_000);

  it('a database number it has is the one used', async () => {
    const prefix = uniquePrefix();
    const result = await runCli(['enqueue', 'refresh'], t.url, {
      REDIS_URL: 'redis://127.0.0.1:6379/3',
      STATCACHE_QUEUE_PREFIX: prefix,
    });
    expect(result.code).toBe(0);
    const [db0, db3] = [new Redis('redis://127.0.0.1:6379/0'), new Redis('redis://127.0.0.1:6379/3')];
    try {
      expect(await db0.keys(`${prefix}:*`)).toEqual([]);
      expect((await db3.keys(`${prefix}:*`)).length).toBeGreaterThan(0);
    } finally {
      db0.disconnect();
      await dropPrefix(prefix, 'redis://127.0.0.1:6379/3');
      db3.disconnect();
    }
  }, 30_000);

  it('status reads the queue without creating a key', async () => {
    const prefix = uniquePrefix();
    const result = await runCli(['status', '--json'], t.url, { STATCACHE_QUEUE_PREFIX: prefix });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).queue).toMatchObject({ prefix, counts: { waiting: 0, failed: 0 } });
    const redis = new Redis('redis://127.0.0.1:6379');
    try {
      expect(await redis.keys(`${prefix}*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});
