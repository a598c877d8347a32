/**
 * The dashboard is not open to the network by default: `serve` listens on 127.0.0.1, refuses a
 * non-loopback address without a token, exits 1 naming a port it cannot take; with a token every
 * route but /healthz needs it (bearer for the API, a sign-in cookie for the page); every answer
 * carries security headers, the page a content security policy; bull-board is read-only.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import type { RequestHandler } from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatcacheQueue } from '../jobs/queue.js';
import { createQueueBoard } from '../jobs/queue-board.js';
import { createApp } from '../src/http/create-app.js';
import { createMetrics } from '../src/http/metrics.js';
import { runCli } from './helpers/cli.js';
import { startServe } from './helpers/serve-process.js';
import { EXCLUDED_PLATFORMS, useTestDatabase } from './helpers/setup.js';
import { waitFor } from './helpers/wait-for.js';
import { dropPrefix, inspectQueue, uniquePrefix } from './helpers/worker-process.js';

const t = useTestDatabase({ built: true });
const TOKEN = 'test-token-0123456789abcdef';

describe('with a token', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const board: RequestHandler = (_req, res) => {
      res.send('the queue board');
    };
    const app = createApp({
      db: t.db,
      metrics: createMetrics(t.db),
      excludedPlatforms: EXCLUDED_PLATFORMS,
      token: TOKEN,
      queueBoard: board,
    });
    server = await new Promise((done) => {
      const s = app.listen(0, '127.0.0.1', () => done(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
  });
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers, redirect: 'manual' });

  it('lets /healthz through and nothing else without it', async () => {
    expect((await get('/healthz')).status).toBe(200);
    const api = await get('/api/experiments');
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({
      error: { message: 'sign in: send Authorization: Bearer <STATCACHE_DASHBOARD_TOKEN>', parameter: null },
    });
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/api/experiments', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(
      401,
    );
    for (const path of ['/', '/app.js', '/queues']) {
      const page = await get(path);
      expect([path, page.status, page.headers.get('location')]).toEqual([path, 303, '/signin']);
    }
  });

  it('takes the bearer token on the API', async () => {
    const api = await get('/api/experiments', { authorization: `Bearer ${TOKEN}` });
    expect(api.status).toBe(200);
    expect(((await api.json()) as { freshness: { mode: string } }).freshness.mode).toBe('cached');
    expect((await get('/metrics', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('signs the page in with a form and an HttpOnly cookie that is not the token', async () => {
    const form = await get('/signin');
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('<form method="post" action="/signin">');
    const post = (token: string) =>
      fetch(`${base}/signin`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
    expect((await post('not-the-token-at-all')).status).toBe(401);
    const signed = await post(TOKEN);
    expect([signed.status, signed.headers.get('location')]).toEqual([303, '/']);
    const cookie = signed.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^statcache_session=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
    expect(cookie).not.toContain(TOKEN);
    const session = { cookie: cookie.split(';')[0] as string };
    expect((await get('/', session)).status).toBe(200);
    expect(await (await get('/queues', session)).text()).toBe('the queue board');
    expect((await get('/api/experiments', session)).status).toBe(200);
    expect((await get('/', { cookie: `statcache_session=${'0'.repeat(64)}` })).status).toBe(303);
  });

  it('sets security headers, and a content security policy on the page and the API', async () => {
    for (const path of ['/healthz', '/signin']) {
      const res = await get(path);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'; script-src 'self'");
    }
  });
});

describe('statcache serve', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('refuses a non-loopback address without a token: exit 2, one line, before listening', async () => {
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], t.url);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'statcache: serve --host 0.0.0.0 would open the dashboard to the network without authentication: set STATCACHE_DASHBOARD_TOKEN (every route but /healthz then needs it), or keep the default 127.0.0.1 behind a proxy\n',
    );
  });

  it('a token too short is bad configuration, and the error does not print it', async () => {
    const r = await runCli(['serve'], t.url, { STATCACHE_DASHBOARD_TOKEN: 'short-secret' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('STATCACHE_DASHBOARD_TOKEN must be at least 16 characters');
    expect(r.stderr).not.toContain('short-secret');
  });

  it('exits 1 naming the port when it is taken', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await runCli(['serve', '--port', String(port)], t.url, { REDIS_URL: 'redis://127.0.0.1:1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `statcache: cannot listen on 127.0.0.1:${port}: the port is taken; pick another with --port`,
      );
    } finally {
      taken.close();
    }
  });

  it("listens on 127.0.0.1 by default, and not on the machine's other addresses", async () => {
    let stderr = '';
    child = spawn(process.execPath, [resolve('bin/statcache.js'), 'serve', '--port', '0'], {
      env: { ...process.env, DATABASE_URL: t.url, REDIS_URL: 'redis://127.0.0.1:1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const port = await waitFor(() => /serving on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1], {
      timeoutMs: 20_000,
      what: 'serve to listen',
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a?.address as string);
    for (const address of others) await expect(fetch(`http://${address}:${port}/healthz`)).rejects.toThrow();
  });
});

describe('--json', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('serve --json prints where it listens as one JSON line on stdout', async () => {
    const serve = await startServe({ DATABASE_URL: t.url, REDIS_URL: 'redis://127.0.0.1:1' });
    child = serve.child;
    const printed = serve.printed;
    expect(printed).toEqual({
      serving: `http://127.0.0.1:${printed.port}/`,
      host: '127.0.0.1',
      port: expect.any(Number),
    });
    expect((await fetch(`${printed.serving}healthz`)).status).toBe(200);
  });

  it('serve --json and worker --json print a start-up error as {"error"} on stdout, exit 2', async () => {
    for (const command of ['serve', 'worker']) {
      const r = await runCli([command, '--json'], t.url, { STATCACHE_PG_CONNECT_TIMEOUT_MS: 'soon' });
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toEqual({
        error: {
          name: 'ConfigError',
          message:
            "STATCACHE_PG_CONNECT_TIMEOUT_MS must be a whole number from 100 to 86400000; example: 5000 (got 'soon')",
        },
      });
    }
  });
});

describe('bull-board at /queues', () => {
  it('is read-only unless made writable: retrying jobs answers 405', async () => {
    const prefix = uniquePrefix();
    const { queue, close } = inspectQueue(prefix);
    const servers: Server[] = [];
    try {
      const statusOf = async (writable: boolean) => {
        const app = createApp({
          db: t.db,
          metrics: createMetrics(t.db),
          excludedPlatforms: EXCLUDED_PLATFORMS,
          queueBoard: createQueueBoard(queue as unknown as StatcacheQueue, { writable }),
        });
        const server: Server = await new Promise((done) => {
          const s = app.listen(0, '127.0.0.1', () => done(s));
        });
        servers.push(server);
        const port = (server.address() as { port: number }).port;
        const res = await fetch(`http://127.0.0.1:${port}/queues/api/queues/statcache/retry/failed`, {
          method: 'PUT',
        });
        return res.status;
      };
      expect(await statusOf(false)).toBe(405);
      expect(await statusOf(true)).toBe(200);
    } finally {
      for (const s of servers) await new Promise((done) => s.close(done));
      await close();
      await dropPrefix(prefix);
    }
  });
});

describe('errors', () => {
  it('a 5xx answers "internal error" with the request id and logs the cause under it; requests log at debug', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const app = createApp({
      db: t.db,
      metrics: createMetrics(t.db),
      excludedPlatforms: EXCLUDED_PLATFORMS,
      logger,
    });
    const server: Server = await new Promise((done) => {
      const s = app.listen(0, '127.0.0.1', () => done(s));
    });
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    await t.db.execute(
      sql`alter table statcache_experiment_totals rename to statcache_experiment_totals_gone`,
    );
    try {
      const res = await fetch(`${base}/api/experiments`);
      expect(res.status).toBe(500);
      const requestId = res.headers.get('x-request-id');
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: { message: 'internal error', requestId } });
      expect(text).not.toMatch(/select|statcache_/i);
      const failed = lines.filter((l) => l.msg === 'request failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ level: 50, requestId, method: 'GET', url: '/api/experiments' });
      expect(JSON.stringify(failed[0]?.err)).toContain('statcache_experiment_totals');
      expect(lines.filter((l) => l.msg === 'request' && l.requestId === requestId)).toEqual([
        expect.objectContaining({ level: 20, method: 'GET', url: '/api/experiments', status: 500 }),
      ]);
    } finally {
      await t.db.execute(
        sql`alter table statcache_experiment_totals_gone rename to statcache_experiment_totals`,
      );
      await new Promise((done) => server.close(done));
    }
  });
});
