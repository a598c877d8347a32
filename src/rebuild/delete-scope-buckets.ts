/** Removes a batch's buckets before they are recomputed, and buckets whose source is gone. */

import { type SQL, sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { type Executor, execCount, queryRows, toNumber } from '../db/types.js';
import { isExperimentRow, relationSql, withVersionRows } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

/**
 * Deletes every bucket, of every size, of the experiments in `experimentIds` and of their sessions,
 * and the experiments' participants' first sessions and totals. `source` names the platform's
 * sessions table.
 *
 * Session buckets filed under these experiments whose session the batch does not rewrite (it moved
 * away, or its experiment row became a version of a row outside the batch) are deleted too: an
 * experiment recount trusts a bucket as filed unless its session has a `session` key pending. So
 * each such session gets a `session` key, naming the experiment it was filed under, in the same
 * transaction: fresh reads recount it, and the next refresh rebuilds it whole where it counts now
 * (and recounts the hours it left). Without the key its totals read zero while only an `experiment`
 * key was pending (found by the ocs property test: an experiment made a version of its own version,
 * then `refresh --full --experiment` of it).
 *
 * Parameters: $1 experiment ids (bigint[]). Returns buckets deleted.
 */
export async function deleteScopeBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  source: SourceProfile,
  /** Session ids (a SELECT) the caller rebuilds whole in the same transaction: they need no key. */
  handled?: SQL,
): Promise<number> {
  const ids = bigintArray(experimentIds);
  const S = relationSql(source, 'sessions', 's');
  const experimentRows = await execCount(
    tx,
    sql`delete from experiment_statistics_buckets where experiment_id = any(${ids})`,
  );
  // Two statements, each served by its own index. As one OR the planner may pick a scan of the
  // whole table that compares every row with the whole array of session ids (it did once the index
  // on experiment_id grew: 1M messages, 50 experiments, 8.6 s per batch instead of milliseconds).
  // An IN (subquery) scanned the whole table once per batch too; = any(array(...)) probes the
  // primary key once per session.
  const [filed] = await queryRows<{ deleted: unknown }>(
    tx,
    sql`
    with filed as (
      delete from session_statistics_buckets where experiment_id = any(${ids})
      returning session_id, experiment_id
    ),
    keyed as (
      insert into statcache_changes (kind, experiment_id, session_id)
      select 'session', f.experiment_id, f.session_id
      from (select distinct session_id, experiment_id from filed) f
      -- Only sessions that still exist (a deleted one has its own key), that this batch does not
      -- rewrite, and that no pending or just claimed session key names already.
      where exists (select 1 from ${S.from} where ${S.id} = f.session_id
                      and not coalesce(${S.experimentId} = any(${withVersionRows(source, ids)}), false))
        and not exists (select 1 from statcache_changes c where c.kind = 'session' and c.session_id = f.session_id)
        ${handled ? sql`and f.session_id not in (${handled})` : sql``}
    )
    select count(*) as deleted from filed`,
  );
  const movedRows = await execCount(
    tx,
    sql`delete from session_statistics_buckets
        where session_id = any(array(select ${S.id} from ${S.from} where ${S.experimentId} = any(${withVersionRows(source, ids)})))`,
  );
  const sessionRows = toNumber(filed?.deleted) + movedRows;
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
