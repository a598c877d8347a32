/** One experiment's name and trend buckets in a range, for its chart, in one statement. */
import { sql } from 'drizzle-orm';
import type { BucketSize } from '../buckets/bucket-sizes.js';
import { queryRows, type StatDb, toNumber } from '../db/types.js';
import { InvalidInputError } from '../errors/error-classes.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { isExperimentRow, relationSql } from '../source/relation-sql.js';
import { type BucketRow, experimentPoint } from './series-points.js';
import type { ExperimentSeriesPoint, SeriesOptions } from './series-types.js';
import { assertRange } from './validate-range.js';

export interface ExperimentTrend {
  experimentId: number;
  teamId: number;
  name: string;
  points: ExperimentSeriesPoint[];
}

interface Row extends Omit<BucketRow, 'bucket_size'> {
  team_id: unknown;
  name: string | null;
  bucket_size: BucketSize | null;
}

/**
 * The experiment (null if it does not exist, or its row is not an experiment of its own but a
 * published version of one) with its buckets of every size overlapping [from, to), oldest first.
 * The experiment row is left-joined to its buckets, so one statement answers both "does it exist"
 * and "what are its buckets" (unique index (experiment_id, bucket_size, bucket_start)).
 *
 * @param range - the range, and `source`: where the platform keeps its tables (default: the statcache
 *   demo schema).
 */
export async function getExperimentTrend(
  db: StatDb,
  experimentId: number,
  range: SeriesOptions,
): Promise<ExperimentTrend | null> {
  if (!Number.isSafeInteger(experimentId) || experimentId < 1)
    throw new InvalidInputError(
      `experiment id must be a positive whole number (got '${String(experimentId)}')`,
    );
  assertRange(range);
  const from = range.from.toISOString();
  const to = range.to.toISOString();
  const E = relationSql(range.source ?? STATCACHE_PROFILE, 'experiments', 'e');
  const rows = await queryRows<Row>(
    db,
    sql`
    select ${E.id} as id, ${E.teamId} as team_id, ${E.name} as name, b.bucket_size, b.bucket_start, b.bucket_end,
           b.session_count as sessions, b.new_participant_count as participants,
           b.human_message_count as human_messages, b.last_activity_at
    from ${E.from}
    left join experiment_statistics_buckets b
      on b.experiment_id = ${E.id} and b.bucket_start < ${to}::timestamptz and b.bucket_end > ${from}::timestamptz
    where ${E.id} = ${experimentId} and ${isExperimentRow(E)}
    order by b.bucket_start, b.bucket_end`,
  );
  const [first] = rows;
  if (!first) return null;
  return {
    experimentId: toNumber(first.id),
    teamId: toNumber(first.team_id),
    name: first.name ?? '',
    points: rows.filter((r): r is Row & BucketRow => r.bucket_size !== null).map(experimentPoint),
  };
}
