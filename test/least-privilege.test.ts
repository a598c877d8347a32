/**
 * statcache under least privilege, on each built-in profile's tables: the installer is the role that owns
 * the platform's tables (with CREATE on the schema); `statcache grants` prints what the worker and the
 * dashboard need, and nothing more is granted; a platform writer with only INSERT on its message
 * table is still captured (the capture functions run as their owner); the worker refreshes and
 * verifies as its role; the dashboard answers as a role that can only read, and that role cannot
 * write.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type NodePgStatDb } from '../src/db/create-db.js';
import { createApp } from '../src/http/create-app.js';
import { createMetrics } from '../src/http/metrics.js';
import { createDemoTables } from '../src/install/install-source.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { OCS_PROFILE, STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { runCli } from './helpers/cli.js';
import { liveExperimentTotals } from './helpers/fixtures.js';
import { recountOcsExperiments } from './helpers/ocs-fixture.js';
import { EXCLUDED_PLATFORMS } from './helpers/setup.js';
import { createEmptyDatabase, type TestDatabase } from './helpers/test-db.js';

describe.each([OCS_PROFILE, STATCACHE_PROFILE])('least privilege, profile $name', (source: SourceProfile) => {
  const suffix = `${source.name}_${randomBytes(4).toString('hex')}`;
  const ROLES = {
    app: `sc_app_${suffix}`,
    writer: `sc_writer_${suffix}`,
    worker: `sc_worker_${suffix}`,
    dashboard: `sc_dash_${suffix}`,
  };
  const env = { STATCACHE_SOURCE: source.name };
  const M = source.messages.table;
  let t: TestDatabase;
  const urlAs = (role: string) => {
    const url = new URL(t.url);
    url.username = role;
    return url.toString();
  };

  async function asRole<T>(role: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: urlAs(role) });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    t = await createEmptyDatabase();
    const admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
    try {
      if (source === OCS_PROFILE)
        await admin.query(readFileSync(resolve('drizzle/demo/ocs-tables.sql'), 'utf8'));
      else await createDemoTables(t.db, source);
      for (const role of Object.values(ROLES)) await admin.query(`create role ${role} login`);
      // The platform's tables belong to its app role, as Django's migrations leave them.
      await admin.query(`do $$ declare r record; begin
      for r in select tablename from pg_tables where schemaname = 'public' loop
        execute format('alter table public.%I owner to ${ROLES.app}', r.tablename);
      end loop; end $$`);
      await admin.query(`grant create on schema public to ${ROLES.app}`);
      // drizzle's migrator runs CREATE SCHEMA IF NOT EXISTS for its records' schema, which checks this.
      await admin.query(`grant create on database ${t.name} to ${ROLES.app}`);
      await admin.query(`revoke temporary on database ${t.name} from public`);
    } finally {
      await admin.end();
    }
    await seedWorkload(t.db, { seed: 6, size: workloadSize(3_000), source });
  });
  afterAll(async () => {
    await t?.drop();
    const admin = new pg.Client({ connectionString: t.url.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    for (const role of Object.values(ROLES)) await admin.query(`drop role if exists ${role}`);
    await admin.end();
  });

  it('installs as the tables owner, then runs the worker and the dashboard on exactly the printed grants', async () => {
    const installed = await runCli(['migrate'], urlAs(ROLES.app), env);
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);

    const grants = await runCli(
      ['grants', '--worker', ROLES.worker, '--dashboard', ROLES.dashboard],
      urlAs(ROLES.app),
      env,
    );
    expect(grants.code).toBe(0);
    const statements = grants.stdout.trim().split('\n');
    expect(statements.some((s) => s.startsWith(`GRANT UPDATE ("cached_experiment_versions")`))).toBe(true);
    // A DBA runs them (GRANT TEMPORARY ON DATABASE needs the database's owner).
    const dba = new pg.Client({ connectionString: t.url });
    await dba.connect();
    try {
      for (const statement of statements) await dba.query(statement);
    } finally {
      await dba.end();
    }
    await asRole(ROLES.app, async (owner) => {
      // The platform's writer: its chats and messages only.
      await owner.query(`grant usage on schema public to ${ROLES.writer}`);
      await owner.query(`grant select on public.${source.chats.table} to ${ROLES.writer}`);
      await owner.query(`grant select, insert on public.${M} to ${ROLES.writer}`);
      // The demo schema's ids are bigserial (OCS's are identity columns, which need no grant).
      if (source === STATCACHE_PROFILE)
        await owner.query(`grant usage on sequence public.${M}_id_seq to ${ROLES.writer}`);
    });

    const built = await runCli(['refresh'], urlAs(ROLES.worker), env);
    expect(built.stderr).not.toContain('permission denied');
    expect(built.code).toBe(0);
    // A write by a role that has no privilege on statcache's tables is captured all the same.
    const insertMessage =
      source === OCS_PROFILE
        ? `insert into chat_chatmessage (created_at, updated_at, message_type, content, chat_id, metadata, translations)
             select now(), now(), 'human', 'hello', id, '{}', '{}' from chat_chat order by id limit 1`
        : `insert into chat_messages (chat_id, message_type, created_at) select id, 'human', now() from chats order by id limit 1`;
    await asRole(ROLES.writer, (writer) => writer.query(insertMessage));
    await expect(
      asRole(ROLES.writer, (writer) => writer.query('select count(*) from statcache_changes')),
    ).rejects.toMatchObject({ code: '42501' });
    expect((await runCli(['refresh'], urlAs(ROLES.worker), env)).code).toBe(0);
    expect(await runCli(['verify'], urlAs(ROLES.worker), env)).toMatchObject({ code: 0 });
    expect(await runCli(['compress'], urlAs(ROLES.worker), env)).toMatchObject({ code: 0 });

    /** Human messages per experiment, recounted live from the platform's tables. */
    const liveMessages = async (ids: number[]): Promise<Map<number, number>> =>
      source === OCS_PROFILE
        ? new Map(
            [...(await recountOcsExperiments(t.db, EXCLUDED_PLATFORMS))].map(([id, r]) => [
              id,
              r.humanMessages,
            ]),
          )
        : new Map(
            await Promise.all(
              ids.map(async (id) => [id, (await liveExperimentTotals(t.db, id)).humanMessages] as const),
            ),
          );
    // The dashboard, as its read-only role.
    const db: NodePgStatDb = createDb(urlAs(ROLES.dashboard), { max: 2 });
    let server: Server | undefined;
    try {
      const app = createApp({
        db,
        metrics: createMetrics(db),
        excludedPlatforms: EXCLUDED_PLATFORMS,
        source,
      });
      server = await new Promise<Server>((done) => {
        const s = app.listen(0, '127.0.0.1', () => done(s));
      });
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/api/experiments?limit=500`);
      if (res.status !== 200) throw new Error(`dashboard answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { rows: { experimentId: number; humanMessages: number }[] };
      const recount = await liveMessages(body.rows.map((r) => r.experimentId));
      expect(body.rows.length).toBeGreaterThan(0);
      if (source === OCS_PROFILE) expect(body.rows.length).toBe(recount.size);
      for (const row of body.rows) expect(row.humanMessages).toBe(recount.get(row.experimentId));

      // A message not refreshed yet: the same page read exact now, still as the read-only role, on
      // a connection whose transactions are read-only (a replica's are too).
      await asRole(ROLES.writer, (writer) => writer.query(insertMessage));
      const readOnly = createDb(`${urlAs(ROLES.dashboard)}?options=-c%20default_transaction_read_only%3Don`, {
        max: 1,
      });
      try {
        const page = await listExperiments(readOnly, { limit: 500, source, fresh: true });
        expect(page.freshness).toMatchObject({ mode: 'fresh', pendingChanges: 1 });
        const live = await liveMessages(page.rows.map((r) => r.experimentId));
        expect(page.rows.map((r) => [r.experimentId, r.humanMessages])).toEqual(
          page.rows.map((r) => [r.experimentId, live.get(r.experimentId)]),
        );
        expect(page.rows.reduce((n, r) => n + r.humanMessages, 0)).toBe(
          body.rows.reduce((n, r) => n + r.humanMessages, 0) + 1,
        );
      } finally {
        await readOnly.close();
      }
    } finally {
      await new Promise((done) => (server ? server.close(done) : done(undefined)));
      await db.close();
    }
    // And it cannot write, neither statcache's tables nor the platform's.
    for (const write of [
      "insert into statcache_changes (kind) values ('all')",
      'delete from experiment_statistics_buckets',
      `update ${source.sessions.table} set cached_experiment_versions = '{}'`,
      'create temp table x (y int)',
    ])
      await expect(asRole(ROLES.dashboard, (c) => c.query(write))).rejects.toMatchObject({ code: '42501' });
  });
});
