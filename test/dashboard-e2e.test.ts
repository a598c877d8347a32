/**
 * The web page in headless Chromium (Debian's `chromium`, driven by playwright-core): the
 * experiments table shows exactly the API's numbers, sorts by a column, pages, and an experiment
 * opens its sessions table and trend chart. With STATCACHE_SCREENSHOTS=1 it refreshes the
 * screenshots in docs/screenshots/ that the README shows.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { sql } from 'drizzle-orm';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_COMPRESSION_POLICY, shapeAt } from '../src/buckets/shape.js';
import { createApp } from '../src/http/create-app.js';
import { createMetrics } from '../src/http/metrics.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { EXCLUDED_PLATFORMS, useTestDatabase } from './helpers/setup.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.STATCACHE_SCREENSHOTS === '1';
const t = useTestDatabase({ built: true });
let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`,
    );
  await seedWorkload(t.db, { seed: 31, size: workloadSize(12_000, { experiments: 60, teams: 3 }) });
  await refreshFull(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchExperiments: 20,
    bucketShape: shapeAt(DEFAULT_COMPRESSION_POLICY, new Date()),
  });
  const app = createApp({ db: t.db, metrics: createMetrics(t.db), excludedPlatforms: EXCLUDED_PLATFORMS });
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
});
afterAll(async () => {
  await browser?.close();
  // Only a started server: a promise on an undefined one would never settle (a hung teardown).
  if (server) await new Promise((resolve) => server?.close(resolve));
});

interface ApiRow {
  experimentId: number;
  sessionId: number;
  name: string;
  sessions: number;
  participants: number;
  humanMessages: number;
  experimentVersions: string[];
}
interface ApiPage {
  rows: ApiRow[];
  total: number;
}
const api = async (path: string): Promise<ApiPage> =>
  (await fetch(`${base}${path}`)).json() as Promise<ApiPage>;
const fmt = (n: number) => n.toLocaleString('en');

/** Waits until the page rendered the view for `hash`. */
async function ready(page: Page, hash: string) {
  await page.waitForSelector(`main[data-ready="${hash}"]`, { timeout: 20_000 });
}

/** The visible cells of the table, by column key. */
async function cells(page: Page, column: string): Promise<string[]> {
  return page.$$eval(`td[data-col="${column}"]`, (tds) => tds.map((td) => td.textContent ?? ''));
}

async function expectExperimentsTable(page: Page, query: string) {
  const expected = await api(`/api/experiments?${query}&limit=25`);
  expect(await cells(page, 'name')).toEqual(expected.rows.map((r: ApiRow) => r.name));
  expect(await cells(page, 'sessions')).toEqual(expected.rows.map((r: ApiRow) => fmt(r.sessions)));
  expect(await cells(page, 'participants')).toEqual(expected.rows.map((r: ApiRow) => fmt(r.participants)));
  expect(await cells(page, 'humanMessages')).toEqual(expected.rows.map((r: ApiRow) => fmt(r.humanMessages)));
  expect(await page.textContent('#total')).toBe(`${fmt(expected.total)} in all`);
  // One sparkline per row, and last activity as "… ago".
  expect(await page.$$eval('td[data-col="trend"] svg.sparkline', (s) => s.length)).toBe(expected.rows.length);
  for (const text of await cells(page, 'lastActivity')) expect(text).toMatch(/ ago$|^—$/);
  return expected;
}

it('shows the API numbers, sorts, pages and opens an experiment with its sessions and chart', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/`);
  await ready(page, '');
  await expectExperimentsTable(page, 'sort=humanMessages&order=desc&offset=0');
  expect(await page.textContent('#page')).toBe('page 1 of 3');
  // How current the numbers are: refreshed in beforeAll, nothing pending.
  expect(await page.textContent('#freshness')).toMatch(/^updated \d+ s ago · up to date$/);
  if (SCREENSHOTS) {
    mkdirSync('docs/screenshots', { recursive: true });
    await page.screenshot({ path: 'docs/screenshots/experiments.png', fullPage: true });
  }

  // Sort by sessions (descending first), then ascending on a second click.
  await page.click('th[data-key="sessions"]');
  await ready(page, '#/?sort=sessions&order=desc&offset=0');
  await expectExperimentsTable(page, 'sort=sessions&order=desc&offset=0');
  await page.click('th[data-key="sessions"]');
  await ready(page, '#/?sort=sessions&order=asc&offset=0');
  await expectExperimentsTable(page, 'sort=sessions&order=asc&offset=0');

  // Next page.
  await page.click('#next');
  await ready(page, '#/?sort=sessions&order=asc&offset=25');
  const second = await expectExperimentsTable(page, 'sort=sessions&order=asc&offset=25');
  expect(await page.textContent('#page')).toBe('page 2 of 3');

  // Open the first experiment of that page.
  const opened = second.rows[0] as ApiRow;
  await page.click(`a[href="#/experiments/${opened.experimentId}"]`);
  await ready(page, `#/experiments/${opened.experimentId}`);
  expect(await page.textContent('#experiment-name')).toBe(opened.name);
  const sessions = await api(
    `/api/experiments/${opened.experimentId}/sessions?sort=lastActivity&order=desc&limit=25`,
  );
  expect(await cells(page, 'id')).toEqual(sessions.rows.map((r: ApiRow) => `#${r.sessionId}`));
  expect(await cells(page, 'humanMessages')).toEqual(sessions.rows.map((r: ApiRow) => fmt(r.humanMessages)));
  expect(await cells(page, 'versions')).toEqual(
    sessions.rows.map((r: ApiRow) => r.experimentVersions.join(', ') || '—'),
  );
  expect(await page.textContent('#total')).toBe(`${fmt(sessions.total)} in all`);
  const points = Number(await page.getAttribute('svg.chart', 'data-points'));
  expect(points).toBeGreaterThan(0);
  expect(await page.$$eval('svg.chart rect', (r) => r.length)).toBe(points);
  if (SCREENSHOTS) await page.screenshot({ path: 'docs/screenshots/experiment.png', fullPage: true });

  // A message written into one of its sessions and not refreshed yet: the view says so.
  await t.db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
    select s.chat_id, 'human', now() from experiment_sessions s where s.experiment_id = ${opened.experimentId} limit 1`);
  await page.reload();
  await ready(page, `#/experiments/${opened.experimentId}`);
  expect(await page.textContent('#freshness')).toMatch(
    /^updated \d+ s ago · 1 change pending \(oldest \d+ s ago\)$/,
  );
  expect(await page.getAttribute('#freshness', 'class')).toContain('pending');
  const cached = await cells(page, 'humanMessages');

  // Reload exact now: the same view with fresh=1, the message counted, and the line says so.
  await page.click('#reload-fresh');
  const freshHash = `#/experiments/${opened.experimentId}?sort=lastActivity&order=desc&offset=0&fresh=1`;
  await ready(page, freshHash);
  expect(await page.textContent('#freshness')).toMatch(
    /^exact now · 1 change recounted \(updated \d+ s ago\)$/,
  );
  expect(await page.getAttribute('#freshness', 'class')).not.toContain('pending');
  const exact = await api(
    `/api/experiments/${opened.experimentId}/sessions?sort=lastActivity&order=desc&limit=25&offset=0&fresh=1`,
  );
  expect(await cells(page, 'humanMessages')).toEqual(exact.rows.map((r: ApiRow) => fmt(r.humanMessages)));
  const sum = (xs: string[]) => xs.reduce((n, x) => n + Number(x.replaceAll(',', '')), 0);
  expect(sum(await cells(page, 'humanMessages'))).toBe(sum(cached) + 1);
  expect(errors).toEqual([]);
  await page.close();
});
