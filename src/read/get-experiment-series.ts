/** Trend-chart series for a batch of experiments: their buckets of every size in a range, in one statement. */
import { sql } from 'drizzle-orm';
import { LONGEST_BUCKET } from '../buckets/bucket-sizes.js';
import { bigintArray } from '../db/params.js';
import { queryRows, type StatDb } from '../db/types.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { isExperimentRow, relationSql } from '../source/relation-sql.js';
import { type BucketRow, experimentPoint, groupInRequestOrder } from './series-points.js';
import type { ExperimentSeriesPoint, SeriesOptions } from './series-types.js';
import { assertIds } from './validate-ids.js';
import { assertRange } from './validate-range.js';

/**
 * Returns a Map from each requested experiment id (in request order) to its buckets that overlap
 * [from, to) (bucket_end > from and bucket_start < to), of any size, oldest first; ids without such
 * buckets, unknown ids and ids of rows that are not experiments of their own (published versions,
 * when `range.source` keeps them as experiment rows) map to []. One SQL statement whatever the
 * number of ids or the range.
 *
 * Served by the unique index (experiment_id, bucket_size, bucket_start): the id array and the three
 * sizes give one index range per (id, size), bounded on bucket_start below by `from` minus the
 * longest bucket (31 days; redundant with bucket_end > from, but usable by the index) and above by `to`.
 *
 * @param range - the range, and `source`: where the platform keeps its tables (default: the statcache
 *   demo schema).
 */
export async function getExperimentSeries(
  db: StatDb,
  ids: readonly number[],
  range: SeriesOptions,
): Promise<Map<number, ExperimentSeriesPoint[]>> {
  assertIds(ids, 'experiment');
  assertRange(range);
  if (ids.length === 0) return new Map();
  const E = relationSql(range.source ?? STATCACHE_PROFILE, 'experiments', 'e');
  const from = range.from.toISOString();
  const to = range.to.toISOString();
  // Parameters: $1 and $5 experiment ids (bigint[]), $2 and $4 from, $3 to (timestamptz as ISO
  // text). The version rows among the ids are a primary key probe per id.
  const rows = await queryRows<BucketRow>(
    db,
    sql`
    select b.experiment_id as id,
           b.bucket_size,
           b.bucket_start,
           b.bucket_end,
           b.session_count as sessions,
           b.new_participant_count as participants,
           b.human_message_count as human_messages,
           b.last_activity_at
    from experiment_statistics_buckets b
    where b.experiment_id = any(${bigintArray(ids)})
      and b.bucket_size in ('hour', 'day', 'month')
      and b.bucket_start > ${from}::timestamptz - ${LONGEST_BUCKET}
      and b.bucket_start < ${to}::timestamptz
      and b.bucket_end > ${from}::timestamptz
      and b.experiment_id not in (select ${E.id} from ${E.from}
                                  where ${E.id} = any(${bigintArray(ids)}) and not (${isExperimentRow(E)}))
    order by b.experiment_id, b.bucket_start, b.bucket_end`,
  );
  return groupInRequestOrder(ids, rows, experimentPoint);
}
