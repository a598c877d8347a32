/** Removes a batch's buckets before they are recomputed, and buckets whose source is gone. */

import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { type Executor, execCount } from '../db/types.js';
import { isExperimentRow, relationSql, withVersionRows } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

/**
 * Deletes every experiment bucket of the experiments in `experimentIds`, every bucket of every size
 * of the sessions the batch rewrites (those insertSessionBuckets writes: all their buckets, wherever
 * they are filed), and the experiments' participants' first sessions and totals. `source` names the
 * platform's sessions table.
 *
 * A session bucket filed under one of these experiments whose session is not rewritten here (it
 * moved away, or its experiment row became a version of a row outside the batch) is left alone: a
 * pending key re-files it (the move's `session` key; the `experiment` keys of every row the change
 * made or unmade a version of), and until then it still holds the session's messages. Deleting it
 * lost them: a session's totals read zero while only an `experiment` key, which fresh reads do not
 * recount sessions for, was pending (found by the ocs property test: an experiment made a version
 * of its own version, then `refresh --full --experiment` of it).
 * Parameters: $1 experiment ids (bigint[]). Returns buckets deleted.
 */
export async function deleteScopeBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  source: SourceProfile,
): Promise<number> {
  const ids = bigintArray(experimentIds);
  const S = relationSql(source, 'sessions', 's');
  const experimentRows = await execCount(
    tx,
    sql`delete from experiment_statistics_buckets where experiment_id = any(${ids})`,
  );
  // = any(array(...)) probes the primary key once per session (an IN (subquery) scanned the whole
  // table once per batch).
  const sessionRows = await execCount(
    tx,
    sql`delete from session_statistics_buckets
        where session_id = any(array(select ${S.id} from ${S.from} where ${S.experimentId} = any(${withVersionRows(source, ids)})))`,
  );
  // Participants of experiments deleted since are removed with them (their ids are in the scope of
  // the refresh that sees the delete) or by deleteOrphanBuckets at the end of a full rebuild.
  await tx.execute(sql`delete from statcache_experiment_participants where experiment_id = any(${ids})`);
  await tx.execute(sql`delete from statcache_experiment_totals where experiment_id = any(${ids})`);
  return experimentRows + sessionRows;
}

/**
 * Deletes buckets (and totals) whose experiment or session no longer exists in `source` (deleted
 * experiments, teams, sessions). Only experiment rows count as an experiment: what is filed under a
 * published-version row (a profile with `experiments.versionOf`) is removed like an orphan.
 * Returns buckets deleted.
 */
export async function deleteOrphanBuckets(tx: Executor, source: SourceProfile): Promise<number> {
  const E = relationSql(source, 'experiments', 'e');
  const S = relationSql(source, 'sessions', 's');
  const experimentRows = await execCount(
    tx,
    sql`delete from experiment_statistics_buckets b
        where not exists (select 1 from ${E.from} where ${E.id} = b.experiment_id and ${isExperimentRow(E)})`,
  );
  const sessionRows = await execCount(
    tx,
    sql`delete from session_statistics_buckets b
        where not exists (select 1 from ${S.from} where ${S.id} = b.session_id)`,
  );
  await tx.execute(sql`delete from statcache_experiment_participants p
      where not exists (select 1 from ${E.from} where ${E.id} = p.experiment_id and ${isExperimentRow(E)})`);
  await tx.execute(sql`delete from statcache_experiment_totals t
      where not exists (select 1 from ${E.from} where ${E.id} = t.experiment_id and ${isExperimentRow(E)})`);
  return experimentRows + sessionRows;
}
