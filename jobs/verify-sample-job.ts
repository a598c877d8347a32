/**
 * The `verify-sample` job, on `STATCACHE_VERIFY_CRON` (UTC): recounts a random sample of experiments
 * (with all their sessions) against source. Each mismatch is logged with its numbers and healed by
 * queueing a whole-experiment rebuild (an `experiment` change row), which the next refresh applies:
 * drift cannot persist unnoticed.
 */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../src/db/params.js';
import { type Executor, queryRows, toNumber } from '../src/db/types.js';
import { countedExperiment, isExperimentRow, relationSql } from '../src/source/relation-sql.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import type { Mismatch } from '../src/verify/mismatch.js';
import { verify } from '../src/verify/verify.js';
import type { JobContext } from './context.js';
import type { JobDefinition, JobSummary } from './job-definition.js';

export interface VerifySamplePayload {
  /** Check these experiments instead of a random sample of `STATCACHE_VERIFY_SAMPLE`. */
  experimentIds?: number[];
}

/** Mismatches logged one per line, at most this many per run (the count is always logged). */
const MAX_LOGGED = 50;

async function handleVerifySample(
  { db, config, logger }: JobContext,
  data: VerifySamplePayload,
): Promise<JobSummary> {
  const E = relationSql(config.source, 'experiments', 'e');
  const experimentIds = data.experimentIds?.length
    ? data.experimentIds
    : (
        await queryRows<{ id: unknown }>(
          db,
          sql`select ${E.id} as id from ${E.from} where ${isExperimentRow(E)}
              order by random() limit ${config.worker.verifySample}`,
        )
      ).map((r) => toNumber(r.id));
  const result = await verify(db, {
    experimentIds,
    excludedPlatforms: config.excludedPlatforms,
    batchExperiments: config.batchExperiments,
    source: config.source,
  });
  for (const mismatch of result.mismatches.slice(0, MAX_LOGGED))
    logger.warn({ mismatch }, 'verify-sample mismatch');
  const healed = result.mismatches.length > 0 ? await queueRebuilds(db, result.mismatches, config.source) : 0;
  if (result.mismatches.length > 0)
    logger.warn(
      { mismatches: result.mismatches.length, experimentsQueued: healed },
      'verify-sample found drift; queued those experiments for rebuild by the next refresh',
    );
  return {
    bucketsWritten: 0,
    changesProcessed: 0,
    experimentsChecked: result.checked.experiments,
    sessionsChecked: result.checked.sessions,
    mismatches: result.mismatches.length,
    // Lag, not drift: differences pending changes explain; the next refresh applies them, nothing to heal.
    pending: result.pending.length,
    experimentsQueued: healed,
  };
}

export const verifySampleJob: JobDefinition<'verify-sample', VerifySamplePayload> = {
  name: 'verify-sample',
  schedule: (config) => ({ pattern: config.verifyCron }),
  defaultPayload: {},
  enqueue: {
    argument: 'verify',
    experiments: {
      accepted: true,
      help: 'check these instead of a sample',
      payload: (experimentIds) => ({ experimentIds }),
    },
  },
  handle: handleVerifySample,
};

/**
 * One `experiment` change row per experiment owning a mismatch (sessions via their experiment, looked
 * up in `source`'s sessions table).
 */
async function queueRebuilds(db: Executor, mismatches: Mismatch[], source: SourceProfile): Promise<number> {
  const S = relationSql(source, 'sessions', 's');
  const experiments = new Set<number>();
  const sessions = new Set<number>();
  for (const m of mismatches) {
    if (m.kind === 'experiment_bucket' || m.kind === 'experiment_totals') experiments.add(m.experimentId);
    else if (m.kind === 'session_bucket' || m.kind === 'session_versions') sessions.add(m.sessionId);
    else if (m.kind === 'overlapping_buckets')
      (m.table === 'experiment_statistics_buckets' ? experiments : sessions).add(m.id);
  }
  const [row] = await queryRows<{ queued: unknown }>(
    db,
    sql`with ids as (
          select unnest(${bigintArray([...experiments])}) as id
          union
          select ${countedExperiment(source, S.experimentId)} from ${S.from} where ${S.id} = any(${bigintArray([...sessions])})
        ),
        queued as (insert into statcache_changes (kind, experiment_id) select 'experiment', id from ids returning 1)
        select count(*) as queued from queued`,
  );
  return toNumber(row?.queued);
}
