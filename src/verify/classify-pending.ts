/**
 * Tells lag from drift: which of verify's differences a pending change explains. A difference is
 * pending when a change row not yet applied names what it is about (the change keys say exactly
 * which buckets a write touches): for an experiment bucket, a `message_hour` or `experiment_hour`
 * key of that experiment inside the bucket's range, a `session` key of a session whose cached buckets
 * filed under it overlap the bucket, or a `participant` or `experiment` key of it;
 * for a session bucket, a `message_hour` key of its chat (or session) inside the range, or a
 * `session` key of it; for a session's versions, a `chat_versions` key of its chat or a `session` key;
 * for an experiment's totals, any such key of the experiment; for orphans, a key naming the vanished
 * id. An `experiment` key (a whole rebuild) covers everything of that experiment, and `all` (a
 * TRUNCATE) everything. Overlaps are never lag. One statement, read at the caller's snapshot, so
 * the change rows and the recount see the same moment.
 */
import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../db/types.js';
import { pendingKeysSql } from '../source/pending-keys-sql.js';
import { countedExperiment, relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import type { Mismatch } from './mismatch.js';

/** What a difference is about, flattened for the statement. */
interface Subject {
  ord: number;
  kind: Mismatch['kind'] | 'orphan_experiment' | 'orphan_session';
  experiment_id: number | null;
  session_id: number | null;
  bucket_start: string | null;
  bucket_size: string | null;
}

function subjectOf(m: Mismatch, ord: number): Subject {
  const base = { ord, experiment_id: null, session_id: null, bucket_start: null, bucket_size: null };
  switch (m.kind) {
    case 'experiment_bucket':
      return {
        ...base,
        kind: m.kind,
        experiment_id: m.experimentId,
        bucket_start: m.bucketStart,
        bucket_size: m.bucketSize,
      };
    case 'experiment_totals':
      return { ...base, kind: m.kind, experiment_id: m.experimentId };
    case 'session_bucket':
      return {
        ...base,
        kind: m.kind,
        session_id: m.sessionId,
        // Where it is filed now, where it should be: a rebuild of either explains it.
        experiment_id: m.actual?.experimentId ?? m.expected?.experimentId ?? null,
        bucket_start: m.bucketStart,
        bucket_size: m.bucketSize,
      };
    case 'session_versions':
      return { ...base, kind: m.kind, session_id: m.sessionId };
    case 'orphan_buckets':
      return m.table === 'session_statistics_buckets'
        ? { ...base, kind: 'orphan_session', session_id: m.id }
        : { ...base, kind: 'orphan_experiment', experiment_id: m.id };
    case 'overlapping_buckets':
      return { ...base, kind: m.kind };
  }
}

/** The aligned buckets holding the bucket (size, start): itself, its day, its month (columns size, start). */
function holdingBuckets(size: SQL, start: SQL): SQL {
  return sql`
        select ${size} as size, ${start} as start
        union all select 'day', date_trunc('day', ${start}, 'UTC') where ${size} = 'hour'
        union all select 'month', date_trunc('month', ${start}, 'UTC') where ${size} in ('hour', 'day')`;
}

/** For each difference of `mismatches`, whether a pending change explains it (same order). */
export async function explainedByPending(
  tx: Executor,
  mismatches: readonly Mismatch[],
  source: SourceProfile,
): Promise<boolean[]> {
  if (mismatches.length === 0) return [];
  const S = relationSql(source, 'sessions', 's');
  const subjects = mismatches.map(subjectOf);
  const rows = await queryRows<{ ord: number; pending: boolean }>(
    tx,
    sql`
    with m as materialized (
      select m.*, m.bucket_start + ('1 ' || m.bucket_size)::interval as bucket_end, ${S.chatId} as chat_id,
             ${countedExperiment(source, S.experimentId)} as session_experiment
      from jsonb_to_recordset(${JSON.stringify(subjects)}::jsonb)
             as m(ord int, kind text, experiment_id bigint, session_id bigint, bucket_start timestamptz, bucket_size text)
      left join ${S.from} on ${S.id} = m.session_id
    ),
    -- Pending keys with the experiment and session they are about.
    c as materialized (${pendingKeysSql(source)}),
    -- Each rule below is an equality join on a distinct key set (hash joins): a queue of tens of
    -- thousands of keys against as many differences stays linear, never keys × differences.
    hour_keys as materialized (
      select distinct experiment_id, at from c where kind in ('message_hour', 'experiment_hour')),
    whole as (select distinct experiment_id from c where kind = 'experiment'),
    -- A pending \`session\` key recounts, when applied, every experiment bucket its cached session
    -- buckets overlap where they are filed (a gone session leaves no other record of its hours).
    -- Aligned buckets overlap when one holds the other, so each side is expanded to the buckets
    -- holding it and matched by equality (hash joins, never keys × differences).
    session_ranges as materialized (
      select distinct b.experiment_id, b.bucket_size, b.bucket_start
      from (select distinct session_id from c where kind = 'session' and session_id is not null) k
      join session_statistics_buckets b on b.session_id = k.session_id),
    explained as (
      select m.ord from m join whole w on w.experiment_id in (m.experiment_id, m.session_experiment)
      union
      select m.ord from m join (select distinct experiment_id from c where kind = 'participant') p
        on p.experiment_id = m.experiment_id
      where m.kind in ('experiment_bucket', 'experiment_totals', 'orphan_experiment')
      union
      select m.ord from m join (select distinct experiment_id from hour_keys) h on h.experiment_id = m.experiment_id
      where m.kind in ('experiment_totals', 'orphan_experiment')
      union
      select m.ord from m join hour_keys h on h.experiment_id = m.experiment_id and h.at = m.bucket_start
      where m.kind = 'experiment_bucket' and m.bucket_size = 'hour'
      union
      select m.ord from m
      join (select distinct experiment_id, date_trunc('day', at, 'UTC') as day from hour_keys) h
        on h.experiment_id = m.experiment_id and h.day = m.bucket_start
      where m.kind = 'experiment_bucket' and m.bucket_size = 'day'
      union
      select m.ord from m
      join (select distinct experiment_id, date_trunc('month', at, 'UTC') as month from hour_keys) h
        on h.experiment_id = m.experiment_id and h.month = m.bucket_start
      where m.kind = 'experiment_bucket' and m.bucket_size = 'month'
      union
      select m.ord from m
      cross join lateral (${holdingBuckets(sql`m.bucket_size`, sql`m.bucket_start`)}) a
      join session_ranges r on r.experiment_id = m.experiment_id and r.bucket_size = a.size and r.bucket_start = a.start
      where m.kind = 'experiment_bucket'
      union
      select m.ord from session_ranges r
      cross join lateral (${holdingBuckets(sql`r.bucket_size`, sql`r.bucket_start`)}) a
      join m on m.experiment_id = r.experiment_id and m.bucket_size = a.size and m.bucket_start = a.start
      where m.kind = 'experiment_bucket'
      union
      select m.ord from m join (select distinct session_id from c where kind = 'session') x on x.session_id = m.session_id
      where m.kind in ('session_bucket', 'session_versions', 'orphan_session')
      union
      -- A session has few keys: join on it, then the bucket's range.
      select m.ord from m join (select distinct resolved_session, at from c where kind = 'message_hour') k
        on k.resolved_session = m.session_id
      where m.kind in ('session_bucket', 'orphan_session')
        and (m.bucket_start is null or (k.at >= m.bucket_start and k.at < m.bucket_end))
      union
      select m.ord from m join (select distinct chat_id, at from c where kind = 'message_hour') k on k.chat_id = m.chat_id
      where m.kind in ('session_bucket', 'orphan_session')
        and (m.bucket_start is null or (k.at >= m.bucket_start and k.at < m.bucket_end))
      union
      select m.ord from m join (select distinct chat_id from c where kind = 'chat_versions') k on k.chat_id = m.chat_id
      where m.kind = 'session_versions'
    )
    select m.ord, m.kind <> 'overlapping_buckets'
                  and (exists (select 1 from c where c.kind = 'all') or m.ord in (select ord from explained)) as pending
    from m order by m.ord`,
  );
  return rows.map((r) => r.pending);
}
