/** Live recount of session buckets and the versions cache for a batch of experiments. */
import { sql } from 'drizzle-orm';
import type { BucketSize } from '../buckets/bucket-sizes.js';
import { bigintArray } from '../db/params.js';
import { type Executor, queryRows, toDate, toNumber } from '../db/types.js';
import { countedExperiment, relationSql, withVersionRows } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import { chatVersionsSql } from '../versions/chat-versions-sql.js';
import type { SessionBucketMismatch, SessionVersionsMismatch } from './mismatch.js';

interface BucketRow {
  session_id: unknown;
  bucket_size: BucketSize;
  bucket_start: unknown;
  x_present: boolean;
  x_messages: unknown;
  x_last: unknown;
  x_experiment: unknown;
  x_platform: string | null;
  b_present: boolean;
  b_messages: unknown;
  b_last: unknown;
  b_experiment: unknown;
  b_platform: string | null;
}

/**
 * Compares stored session buckets of the sessions of `experimentIds` (and any bucket still filed
 * under those experiments) with a recount from source: counts, last activity, and the experiment
 * and platform each is filed under. `source` names the sessions and messages tables.
 * Parameters: $1 experiment ids (bigint[]).
 */
export async function recountSessionBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  source: SourceProfile,
): Promise<SessionBucketMismatch[]> {
  const ids = bigintArray(experimentIds);
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const rows = await queryRows<BucketRow>(
    tx,
    sql`
    with sessions as (
      select ${S.id} as id, ${S.chatId} as chat_id, ${countedExperiment(source, S.experimentId)} as experiment_id, ${S.platform} as platform
      from ${S.from} where ${S.experimentId} = any(${withVersionRows(source, ids)})
    ),
    hourly as (
      select bs.id as session_id, bs.experiment_id, bs.platform, date_trunc('hour', ${M.createdAt}, 'UTC') as hour,
             count(*) as messages, max(${M.createdAt}) as last_at
      from sessions bs join ${M.from} on ${M.chatId} = bs.chat_id
      where ${M.type} = 'human'
      group by 1, 2, 3, 4
    ),
    stored as materialized (
      select * from session_statistics_buckets
      where experiment_id = any(${ids}) or session_id in (select id from sessions)
    ),
    placed as (
      select h.*,
             case when bm.session_id is not null then 'month' when bd.session_id is not null then 'day' else 'hour' end as bucket_size,
             coalesce(bm.bucket_start, bd.bucket_start, h.hour) as bucket_start
      from hourly h
      left join stored bm on bm.session_id = h.session_id and bm.bucket_size = 'month'
                         and bm.bucket_start = date_trunc('month', h.hour, 'UTC')
      left join stored bd on bd.session_id = h.session_id and bd.bucket_size = 'day'
                         and bd.bucket_start = date_trunc('day', h.hour, 'UTC')
    ),
    expected as (
      select session_id, bucket_size, bucket_start, experiment_id, platform, sum(messages) as messages,
             max(last_at) as last_at
      from placed group by 1, 2, 3, 4, 5
    )
    select coalesce(x.session_id, b.session_id) as session_id,
           coalesce(x.bucket_size, b.bucket_size) as bucket_size,
           coalesce(x.bucket_start, b.bucket_start) as bucket_start,
           x.session_id is not null as x_present, x.messages as x_messages, x.last_at as x_last,
           x.experiment_id as x_experiment, x.platform as x_platform,
           b.session_id is not null as b_present, b.human_message_count as b_messages, b.last_activity_at as b_last,
           b.experiment_id as b_experiment, b.platform as b_platform
    from expected x
    full join stored b on b.session_id = x.session_id and b.bucket_size = x.bucket_size
                      and b.bucket_start = x.bucket_start
    where x.session_id is null or b.session_id is null
       or x.messages <> b.human_message_count or x.last_at is distinct from b.last_activity_at
       or x.experiment_id <> b.experiment_id or x.platform is distinct from b.platform
    order by 1, 3`,
  );
  return rows.map((r) => ({
    kind: 'session_bucket',
    sessionId: toNumber(r.session_id),
    bucketSize: r.bucket_size,
    bucketStart: (toDate(r.bucket_start) as Date).toISOString(),
    expected: r.x_present ? sessionValues(r.x_messages, r.x_last, r.x_experiment, r.x_platform) : null,
    actual: r.b_present ? sessionValues(r.b_messages, r.b_last, r.b_experiment, r.b_platform) : null,
  }));
}

function sessionValues(messages: unknown, last: unknown, experimentId: unknown, platform: string | null) {
  return {
    humanMessages: toNumber(messages),
    lastActivityAt: toDate(last)?.toISOString() ?? null,
    experimentId: toNumber(experimentId),
    platform,
  };
}

/**
 * Sessions of `experimentIds` whose versions cache differs from their chat's experiment-version tags.
 * `source` names the sessions, messages, tag-link and tags tables (a generic link table counts only
 * its chat-message rows).
 */
export async function recountSessionVersions(
  tx: Executor,
  experimentIds: readonly number[],
  source: SourceProfile,
): Promise<SessionVersionsMismatch[]> {
  const S = relationSql(source, 'sessions', 's');
  const rows = await queryRows<{ id: unknown; expected: string[]; actual: string[] }>(
    tx,
    sql`
    select ${S.id} as id, coalesce(v.versions, '{}'::text[]) as expected, ${S.versionsCache} as actual
    from ${S.from}
    cross join lateral (select ${chatVersionsSql(source, S.chatId)} as versions) v
    where ${S.experimentId} = any(${withVersionRows(source, bigintArray(experimentIds))})
      and ${S.versionsCache} is distinct from coalesce(v.versions, '{}'::text[])
    order by ${S.id}`,
  );
  return rows.map((r) => ({
    kind: 'session_versions',
    sessionId: toNumber(r.id),
    expected: r.expected,
    actual: r.actual,
  }));
}
