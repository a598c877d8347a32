/**
 * `statcache serve` on a cache that was never built: the dashboard answers counted live (marked
 * live, never zeros) and the server queues the first build for the workers; once a refresh has
 * built it, the same page answers from the cache.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/setup.js';
import { waitFor } from './helpers/wait-for.js';
import { dropPrefix, inspectQueue, uniquePrefix } from './helpers/worker-process.js';

const t = useTestDatabase({ team: true });
const f = t.fixture;
const prefix = uniquePrefix();
let server: ChildProcess | undefined;
afterAll(async () => {
  server?.kill('SIGTERM');
  await dropPrefix(prefix);
});

it('serves live answers and queues the first build while the cache was never built', async () => {
  const a = await f.experiment(t.teamId);
  const s = await f.session({ teamId: t.teamId, experimentId: a, createdAt: '2026-07-01T10:00:00Z' });
  await f.messages(s.chatId, [
    ['human', '2026-07-01T10:01:00Z'],
    ['human', '2026-07-01T10:02:00Z'],
  ]);
  const env = { ...process.env, DATABASE_URL: t.url, STATCACHE_QUEUE_PREFIX: prefix };
  let stderr = '';
  server = spawn(process.execPath, [resolve('bin/statcache.js'), 'serve', '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await waitFor(() => /serving on http:\/\/127\.0\.0\.1:\d+\//.test(stderr), {
    timeoutMs: 20_000,
    what: 'serve to listen',
  });
  expect(stderr).toMatch(
    /the cache was never built, so reads are counted live; queued its first build \(refresh job \S+\), which a worker runs/,
  );
  const port = /127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1];
  const page = async () =>
    (await (await fetch(`http://127.0.0.1:${port}/api/experiments?team=${t.teamId}`)).json()) as {
      rows: { experimentId: number; humanMessages: number }[];
      freshness: { mode: string };
    };
  const live = await page();
  expect(live.freshness.mode).toBe('live');
  expect(live.rows.find((r) => r.experimentId === a)?.humanMessages).toBe(2);
  const { queue, close } = inspectQueue(prefix);
  try {
    expect((await queue.getJobs(['waiting'])).map((j) => j.name)).toEqual(['refresh']);
  } finally {
    await close();
  }
  // A refresh (what the worker runs for that job) builds it: the page answers from the cache.
  expect((await runCli(['refresh'], t.url)).code).toBe(0);
  const cached = await page();
  expect(cached.freshness.mode).toBe('cached');
  expect(cached.rows).toEqual(live.rows);
});
