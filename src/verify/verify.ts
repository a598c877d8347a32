/**
 * verify: recounts the source tables live and lists every stored bucket or versions cache that
 * differs. Each batch of experiments is checked in one REPEATABLE READ, READ ONLY transaction so the
 * recount and the stored buckets come from the same snapshot even while writers are active.
 */
import { sql } from 'drizzle-orm';
import { countExperiments, experimentBatches } from '../db/experiment-batches.js';
import { bigintArray } from '../db/params.js';
import { queryRows, type StatDb, toNumber } from '../db/types.js';
import { findOrphanBuckets } from './find-orphan-buckets.js';
import { findOverlappingBuckets } from './find-overlapping-buckets.js';
import type { Mismatch, VerifyResult } from './mismatch.js';
import { recountExperimentBuckets } from './recount-experiment-buckets.js';
import { recountExperimentTotals } from './recount-experiment-totals.js';
import { recountSessionBuckets, recountSessionVersions } from './recount-session-buckets.js';

export interface VerifyOptions {
  /** Only these experiments (and their sessions); everything, orphans included, when omitted. */
  experimentIds?: readonly number[];
  excludedPlatforms: readonly string[];
  batchExperiments: number;
  onProgress?: (progress: { experimentsDone: number; experimentsTotal: number; mismatches: number }) => void;
}

/** Recounts and compares; resolves with what was checked and every mismatch found. */
export async function verify(db: StatDb, options: VerifyOptions): Promise<VerifyResult> {
  const result: VerifyResult = { checked: { experiments: 0, sessions: 0 }, mismatches: [] };
  const experimentsTotal = await countExperiments(db, options.experimentIds);
  for await (const batch of experimentBatches(db, options.batchExperiments, options.experimentIds)) {
    const { sessions, mismatches } = await db.transaction(
      async (tx) => {
        const [counts] = await queryRows<{ experiments: unknown; sessions: unknown }>(
          tx,
          sql`select (select count(*) from experiments where id = any(${bigintArray(batch)})) as experiments,
                     (select count(*) from experiment_sessions where experiment_id = any(${bigintArray(batch)})) as sessions`,
        );
        const found: Mismatch[] = [
          ...(await recountExperimentBuckets(tx, batch, options.excludedPlatforms)),
          ...(await recountExperimentTotals(tx, batch, options.excludedPlatforms)),
          ...(await recountSessionBuckets(tx, batch)),
          ...(await recountSessionVersions(tx, batch)),
          ...(await findOverlappingBuckets(tx, batch)),
        ];
        result.checked.experiments += toNumber(counts?.experiments);
        return { sessions: toNumber(counts?.sessions), mismatches: found };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
    result.checked.sessions += sessions;
    result.mismatches.push(...mismatches);
    options.onProgress?.({
      experimentsDone: result.checked.experiments,
      experimentsTotal,
      mismatches: result.mismatches.length,
    });
  }
  if (options.experimentIds === undefined) {
    result.mismatches.push(...(await findOrphanBuckets(db)));
  }
  return result;
}
