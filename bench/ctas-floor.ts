/**
 * The physical floor of a full rebuild: each rollup computed once over the whole history by one
 * `CREATE TABLE … AS SELECT`, planned by PostgreSQL as it likes (parallel workers included, which it
 * never uses for an INSERT … SELECT), with no batches, locks, indexes to maintain, upserts or
 * platform rows to update. The rollups are the rebuild's own (experiment buckets, session buckets,
 * participant firsts, each session's versions) in the same bucket shape, over the same sessions:
 * the product path can only approach this, never beat it. The tables are dropped after.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { BucketShape } from '../src/buckets/shape.js';
import { bucketEndSql, bucketSizeSql, bucketStartSql } from '../src/buckets/shape-sql.js';
import type { NodePgStatDb } from '../src/db/create-db.js';
import { textArray } from '../src/db/params.js';
import {
  countedExperimentJoin,
  isExperimentRow,
  linksMessage,
  platformCounted,
  relationSql,
} from '../src/source/relation-sql.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { versionsAgg, versionTagsSql } from '../src/versions/version-tags-sql.js';

const TABLES = ['experiment_buckets', 'session_buckets', 'participant_firsts', 'session_versions'].map(
  (t) => `statcache_bench_floor_${t}`,
);

/** The four CREATE TABLE … AS statements, in the rebuild's order. */
function statements(source: SourceProfile, excluded: readonly string[], shape: BucketShape): SQL[] {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const E = relationSql(source, 'experiments', 'e');
  const L = relationSql(source, 'tagLinks', 'mt');
  const counted = countedExperimentJoin(source, S);
  const start = (ts: SQL) => bucketStartSql(ts, shape);
  // Sessions filed under an experiment of its own (directly or through one of its version rows):
  // the rebuild's batches cover exactly these.
  const ownExperiment = sql`join ${E.from} on ${E.id} = ${counted.experiment} and ${isExperimentRow(E)}`;
  const countedSessions = sql`
    select ${counted.experiment} as experiment_id, ${E.teamId} as team_id, ${S.participantId} as participant_id,
           ${S.chatId} as chat_id, ${S.createdAt} as created_at
    from ${S.from} ${counted.join} ${ownExperiment}
    where ${platformCounted(S.platform, textArray(excluded))}`;
  const [experimentBuckets, sessionBuckets, participantFirsts, sessionVersions] = TABLES.map((t) =>
    sql.raw(t),
  ) as [SQL, SQL, SQL, SQL];
  const eSize = bucketSizeSql(sql`r.bucket_start`, shape);
  const sSize = bucketSizeSql(sql`h.bucket_start`, shape);
  return [
    sql`create table ${experimentBuckets} as
      with counted_sessions as (${countedSessions}),
      rollup as (
        select team_id, experiment_id, ${start(sql`created_at`)} as bucket_start, count(*) as sessions,
               0::bigint as participants, 0::bigint as messages, null::timestamptz as last_at
        from counted_sessions group by 1, 2, 3
        union all
        select team_id, experiment_id, ${start(sql`first_at`)}, 0, count(*), 0, null
        from (select team_id, experiment_id, participant_id, min(created_at) as first_at
              from counted_sessions where participant_id is not null group by 1, 2, 3) f
        group by 1, 2, 3
        union all
        select cs.team_id, cs.experiment_id, ${start(M.createdAt)}, 0, 0, count(*), max(${M.createdAt})
        from counted_sessions cs join ${M.from} on ${M.chatId} = cs.chat_id
        where ${M.type} = 'human' group by 1, 2, 3
      )
      select r.team_id, r.experiment_id, ${eSize} as bucket_size, r.bucket_start,
             ${bucketEndSql(eSize, sql`r.bucket_start`)} as bucket_end, sum(r.sessions) as session_count,
             sum(r.participants) as new_participant_count, sum(r.messages) as human_message_count,
             max(r.last_at) as last_activity_at
      from rollup r group by r.team_id, r.experiment_id, r.bucket_start`,
    sql`create table ${sessionBuckets} as
      select ${S.teamId} as team_id, ${counted.experiment} as experiment_id, ${S.id} as session_id,
             ${S.platform} as platform, ${sSize} as bucket_size, h.bucket_start,
             ${bucketEndSql(sSize, sql`h.bucket_start`)} as bucket_end, count(*) as human_message_count,
             max(h.created_at) as last_activity_at
      from ${S.from} ${counted.join} ${ownExperiment}
      join ${M.from} on ${M.chatId} = ${S.chatId}
      cross join lateral (select ${start(M.createdAt)} as bucket_start, ${M.createdAt} as created_at) h
      where ${M.type} = 'human'
      group by ${S.teamId}, ${counted.experiment}, ${S.id}, ${S.platform}, h.bucket_start`,
    sql`create table ${participantFirsts} as
      select ${counted.experiment} as experiment_id, ${S.participantId} as participant_id,
             min(${S.createdAt}) as first_session_at
      from ${S.from} ${counted.join} ${ownExperiment}
      where ${S.participantId} is not null and ${platformCounted(S.platform, textArray(excluded))}
      group by 1, 2`,
    sql`create table ${sessionVersions} as
      select ${S.id} as session_id, ${versionsAgg('n')} as versions
      from ${S.from} ${counted.join} ${ownExperiment}
      join (select distinct ${M.chatId} as chat_id, vt.name, vt.sort_key
            from ${M.from}
            join ${L.from} on ${linksMessage(source, L, M.id)}
            join ${versionTagsSql(source)} vt on vt.id = ${L.tagId}) n on n.chat_id = ${S.chatId}
      group by ${S.id}`,
  ];
}

async function dropTables(db: NodePgStatDb): Promise<void> {
  await db.execute(sql.raw(`drop table if exists ${TABLES.join(', ')}`));
}

/** Runs the four statements one after another (the timed part); returns each one's milliseconds. */
export async function ctasFloor(
  db: NodePgStatDb,
  source: SourceProfile,
  excluded: readonly string[],
  shape: BucketShape,
): Promise<number[]> {
  await dropTables(db);
  const ms: number[] = [];
  try {
    for (const statement of statements(source, excluded, shape)) {
      const started = process.hrtime.bigint();
      await db.execute(statement);
      ms.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  } finally {
    await dropTables(db);
  }
  return ms;
}
