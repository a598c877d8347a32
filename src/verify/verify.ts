/**
 * verify: recounts the source tables live and lists every stored bucket or versions cache that
 * differs. Each batch of experiments is checked in one REPEATABLE READ, READ ONLY transaction so the
 * recount and the stored buckets come from the same snapshot even while writers are active.
 */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { type Executor, queryRows, type StatDb, toNumber } from '../db/types.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { countExperiments, experimentBatches } from '../source/experiment-batches.js';
import { isExperimentRow, relationSql, withVersionRows } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import { explainedByPending } from './classify-pending.js';
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
  /** Where the platform keeps its tables. @defaultValue the statcache demo schema */
  source?: SourceProfile;
}

/**
 * Recounts and compares, reading the source tables by `options.source`'s names; resolves with what
 * was checked (experiment rows only: an id that is a published version or unknown is not an
 * experiment) and every mismatch found.
 */
export async function verify(db: StatDb, options: VerifyOptions): Promise<VerifyResult> {
  const source = options.source ?? STATCACHE_PROFILE;
  const E = relationSql(source, 'experiments', 'e');
  const S = relationSql(source, 'sessions', 's');
  const result: VerifyResult = { checked: { experiments: 0, sessions: 0 }, mismatches: [], pending: [] };
  const experimentsTotal = await countExperiments(db, options.experimentIds, source);
  for await (const batch of experimentBatches(db, options.batchExperiments, options.experimentIds, source)) {
    const { sessions, mismatches, pending } = await db.transaction(
      async (tx) => {
        const ids = bigintArray(batch);
        const [counts] = await queryRows<{ experiments: unknown; sessions: unknown }>(
          tx,
          sql`select (select count(*) from ${E.from} where ${E.id} = any(${ids}) and ${isExperimentRow(E)}) as experiments,
                     (select count(*) from ${S.from} where ${S.experimentId} = any(${withVersionRows(source, ids)})) as sessions`,
        );
        const found: Mismatch[] = [
          ...(await recountExperimentBuckets(tx, batch, options.excludedPlatforms, source)),
          ...(await recountExperimentTotals(tx, batch, options.excludedPlatforms, source)),
          ...(await recountSessionBuckets(tx, batch, source)),
          ...(await recountSessionVersions(tx, batch, source)),
          ...(await findOverlappingBuckets(tx, batch)),
        ];
        result.checked.experiments += toNumber(counts?.experiments);
        return { sessions: toNumber(counts?.sessions), ...(await splitPending(tx, found, source)) };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
    result.checked.sessions += sessions;
    result.mismatches.push(...mismatches);
    result.pending.push(...pending);
    options.onProgress?.({
      experimentsDone: result.checked.experiments,
      experimentsTotal,
      mismatches: result.mismatches.length,
    });
  }
  if (options.experimentIds === undefined) {
    const orphans = await db.transaction(
      async (tx) => splitPending(tx, await findOrphanBuckets(tx, source), source),
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
    result.mismatches.push(...orphans.mismatches);
    result.pending.push(...orphans.pending);
  }
  return result;
}

/** `found` split into real mismatches and differences a pending change explains (classify-pending.ts). */
async function splitPending(
  tx: Executor,
  found: Mismatch[],
  source: SourceProfile,
): Promise<{ mismatches: Mismatch[]; pending: Mismatch[] }> {
  const explained = await explainedByPending(tx, found, source);
  return {
    mismatches: found.filter((_, i) => !explained[i]),
    pending: found.filter((_, i) => explained[i]),
  };
}
