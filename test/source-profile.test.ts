/**
 * Source profiles: the built-in ones and JSON files are validated once with errors naming the key,
 * and `statcache source` checks a database against the active profile (tables, columns and types,
 * the content type of a chat message, the indexes statcache relies on). Other commands refuse a
 * profile they cannot run on yet.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/db/types.js';
import { OCS_PROFILE, STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import { checkSource } from '../src/source/check-source.js';
import { resolveSourceProfile } from '../src/source/resolve-source-profile.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/setup.js';
import { createEmptyDatabase, type TestDatabase } from './helpers/test-db.js';

const t = useTestDatabase();
/** Open Chat Studio's tables as Django creates them (drizzle/demo/ocs-tables.sql, a copy of shared/ocs/schema.sql). */
let ocs: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'statcache-profile-'));

beforeAll(async () => {
  ocs = await createEmptyDatabase();
  const client = new pg.Client({ connectionString: ocs.url });
  await client.connect();
  await client.query(readFileSync(resolve('drizzle/demo/ocs-tables.sql'), 'utf8'));
  await client.end();
});
afterAll(async () => {
  await ocs?.drop();
});

/** Writes `profile` as a JSON file and returns its path. */
function profileFile(name: string, profile: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof profile === 'string' ? profile : JSON.stringify(profile));
  return path;
}

/** A profile file's JSON, loosely typed so tests can break it. */
// biome-ignore lint/suspicious/noExplicitAny: the tests write malformed profiles on purpose.
type Profile = Record<string, any>;

/** The OCS profile as a user would write it in a file (no origin: that is where it was read). */
function ocsJson(): Record<string, unknown> {
  const { origin: _origin, ...rest } = OCS_PROFILE;
  return JSON.parse(JSON.stringify(rest));
}

describe('resolving STATCACHE_SOURCE', () => {
  it('names the built-in profiles; unset means statcache', () => {
    expect(resolveSourceProfile(undefined)).toBe(STATCACHE_PROFILE);
    expect(resolveSourceProfile('ocs')).toBe(OCS_PROFILE);
  });

  it('reads a JSON profile file: the ocs profile written out reads back the same', () => {
    const path = profileFile('ocs.json', ocsJson());
    expect(resolveSourceProfile(path)).toEqual({ ...OCS_PROFILE, origin: path });
  });

  it("the README's example profile is the ocs profile", () => {
    const readme = readFileSync(resolve('README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Source profiles'));
    const example = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    const path = profileFile('readme.json', example ?? '');
    expect(resolveSourceProfile(path)).toEqual({ ...OCS_PROFILE, origin: path });
  });

  it('defaults schema to public, platformNullable to false and an absent versionOf to none', () => {
    const json = ocsJson();
    delete json.schema;
    delete (json.sessions as Record<string, unknown>).platformNullable;
    delete (json.experiments as Record<string, unknown>).versionOf;
    const profile = resolveSourceProfile(profileFile('defaults.json', json));
    expect(profile.schema).toBe('public');
    expect(profile.sessions.platformNullable).toBe(false);
    expect(profile.experiments.versionOf).toBeUndefined();
  });

  it.each([
    ['a missing column', (j: Profile) => delete j.sessions.createdAt, 'sessions.createdAt is missing'],
    ['a missing relation', (j: Profile) => delete j.messages, 'messages is missing'],
    ['an unknown key', (j: Profile) => (j.sessions.created = 'x'), 'sessions.created is not a profile key'],
    ['a number for a name', (j: Profile) => (j.tags.name = 3), 'tags.name must be a table or column name'],
    [
      'a name PostgreSQL would truncate',
      (j: Profile) => (j.tags.table = 'x'.repeat(64)),
      'tags.table must be a table or column name',
    ],
    [
      'a bad platformNullable',
      (j: Profile) => (j.sessions.platformNullable = 'yes'),
      'sessions.platformNullable must be true or false',
    ],
    [
      'an empty content-type match',
      (j: Profile) => (j.tagLinks.contentType.match = {}),
      'tagLinks.contentType.match must name at least one column',
    ],
  ])('refuses %s, naming the key', (_what, edit, message) => {
    const json = ocsJson();
    edit(json);
    const path = profileFile('bad.json', json);
    expect(() => resolveSourceProfile(path)).toThrow(`source profile ${path}: ${message}`);
  });

  it('refuses a file that is not JSON, an unreadable file and an unknown name', () => {
    const path = profileFile('broken.json', '{"name": ');
    expect(() => resolveSourceProfile(path)).toThrow(`source profile ${path}: is not valid JSON`);
    expect(() => resolveSourceProfile(join(dir, 'absent.json'))).toThrow(
      'STATCACHE_SOURCE names a profile file that cannot be read (ENOENT)',
    );
    expect(() => resolveSourceProfile('django')).toThrow(
      "STATCACHE_SOURCE must be statcache or ocs, or the path of a JSON profile file ending in .json; example: ocs (got 'django')",
    );
  });
});

describe('checking a database against a profile', () => {
  it('the statcache profile matches the migrated demo schema, every index found', async () => {
    const check = await checkSource(t.db, STATCACHE_PROFILE);
    expect(check.ok).toBe(true);
    expect(check.columns.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(check.contentType).toBeNull();
    expect(check.indexes.filter((i) => i.index === null)).toEqual([]);
    expect(check.indexes[0]).toMatchObject({
      table: 'chat_messages',
      columns: ['chat_id', 'message_type', 'created_at'],
      index: 'chat_messages_chat_id_type_created_at_idx',
    });
  });

  it('the ocs profile matches Open Chat Studio as Django creates it; reports what migrate must add', async () => {
    const check = await checkSource(ocs.db, OCS_PROFILE);
    expect(check.ok).toBe(true);
    expect(check.columns.filter((c) => c.status !== 'ok')).toEqual([
      {
        key: 'sessions.versionsCache',
        table: 'experiments_experimentsession',
        column: 'cached_experiment_versions',
        kind: 'text[]',
        type: null,
        status: 'added by migrate',
      },
    ]);
    expect(check.columns.find((c) => c.key === 'tagLinks.messageId')).toMatchObject({
      column: 'object_id',
      type: 'integer',
      status: 'ok',
    });
    // Content-type ids differ between installs: looked up by (app_label, model).
    const [row] = await queryRows<{ id: number }>(
      ocs.db,
      sql`select id from django_content_type where app_label = 'chat' and model = 'chatmessage'`,
    );
    expect(check.contentType).toEqual({ match: { app_label: 'chat', model: 'chatmessage' }, id: row?.id });
    expect(check.indexes.map((i) => [i.table, i.columns.join(','), i.index])).toEqual([
      ['chat_chatmessage', 'chat_id,message_type,created_at', 'chat_chatme_chat_id_4753eb_idx'],
      ['experiments_experimentsession', 'experiment_id,created_at', null],
      ['experiments_experimentsession', 'chat_id', 'experiments_experimentsession_chat_id_c7e867ca_uniq'],
      [
        'experiments_experimentsession',
        'participant_id',
        'experiments_experimentsession_participant_id_231668e8',
      ],
      ['experiments_experiment', 'team_id', 'experiments_experiment_team_id_bec72ee9'],
      ['annotations_customtaggeditem', 'content_type_id,object_id', 'annotations_content_89df85_idx'],
      ['annotations_customtaggeditem', 'tag_id', 'annotations_customtaggeditem_tag_id_4f97765d'],
    ]);
  });

  it('names every table the ocs profile misses on the demo schema, and a wrong type', async () => {
    const check = await checkSource(t.db, OCS_PROFILE);
    expect(check.ok).toBe(false);
    expect(new Set(check.columns.filter((c) => c.status === 'missing table').map((c) => c.table))).toEqual(
      new Set([
        'teams_team',
        'experiments_experiment',
        'experiments_participant',
        'chat_chat',
        'experiments_experimentsession',
        'chat_chatmessage',
        'annotations_tag',
        'annotations_customtaggeditem',
        'django_content_type',
      ]),
    );
    const wrongType = { ...STATCACHE_PROFILE, tags: { ...STATCACHE_PROFILE.tags, name: 'id' } };
    const typed = await checkSource(t.db, wrongType);
    expect(typed.ok).toBe(false);
    expect(typed.columns.filter((c) => c.status !== 'ok')).toEqual([
      {
        key: 'tags.name',
        table: 'tags',
        column: 'id',
        kind: 'text',
        type: 'bigint',
        status: 'unusable type',
      },
    ]);
  });
});

describe('statcache source', () => {
  it('prints the profile and exits 0 when the database matches it', async () => {
    const r = await runCli(['source', '--json'], ocs.url, { STATCACHE_SOURCE: 'ocs' });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.profile.name).toBe('ocs');
    expect(out.ok).toBe(true);
    const text = await runCli(['source'], ocs.url, { STATCACHE_SOURCE: 'ocs' });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('source profile: ocs (builtin), schema public');
    expect(text.stdout).toContain('the database matches profile ocs');
  });

  it('exits 1 naming what is missing when the database does not match', async () => {
    const r = await runCli(['source'], t.url, { STATCACHE_SOURCE: 'ocs' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /sessions\.createdAt\s+experiments_experimentsession\s+created_at\s+timestamptz\s+-\s+missing table/,
    );
    expect(r.stdout).toContain('the database does not match profile ocs');
  });

  it('a bad STATCACHE_SOURCE is bad configuration: exit 2 naming the key', async () => {
    const path = profileFile('cli-bad.json', { ...ocsJson(), tags: { table: 'annotations_tag' } });
    const r = await runCli(['source'], ocs.url, { STATCACHE_SOURCE: path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`statcache: source profile ${path}: tags.id is missing`);
  });
});

describe('the CLI under STATCACHE_SOURCE=ocs', () => {
  it('migrates, refreshes, verifies and reads on OCS tables', async () => {
    const env = { STATCACHE_SOURCE: 'ocs' };
    expect(await runCli(['migrate'], ocs.url, env)).toMatchObject({ code: 0, stderr: '' });
    const seeded = await runCli(['seed', '--messages', '2000', '--json'], ocs.url, env);
    expect(seeded.code).toBe(0);
    expect((await runCli(['refresh'], ocs.url, env)).code).toBe(0);
    const verified = await runCli(['verify', '--json'], ocs.url, env);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout).mismatches).toEqual([]);
    const [row] = await queryRows<{ id: number }>(
      ocs.db,
      sql`select min(id)::int as id from experiments_experiment where working_version_id is null`,
    );
    const totals = await runCli(['totals', '--experiment', String(row?.id), '--json'], ocs.url, env);
    expect(totals.code).toBe(0);
    expect(JSON.parse(totals.stdout)[0].experimentId).toBe(row?.id);
    // A published-version row is no experiment: the CLI names it as unknown.
    const [version] = await queryRows<{ id: number }>(
      ocs.db,
      sql`select min(id)::int as id from experiments_experiment where working_version_id is not null`,
    );
    const refused = await runCli(['totals', '--experiment', String(version?.id)], ocs.url, env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`experiment id ${version?.id} not found`);
  });
});
