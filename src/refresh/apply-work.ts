/** Applies one claimed batch of changes inside the caller's transaction. */

import { lockExperiments } from '../aggregate/lock-experiments.js';
import { rebuildExperiments } from '../aggregate/rebuild-batch.js';
import { updateVersionsCache } from '../aggregate/update-versions-cache.js';
import type { Executor } from '../db/types.js';
import { type RefreshWork, splitKeys } from './claim-changes.js';
import { recomputeExperimentBuckets } from './recompute-experiment-buckets.js';
import { recomputeParticipantFirsts } from './recompute-participant-firsts.js';
import { rebuildWholeSessions, recomputeSessionBuckets } from './recompute-session-buckets.js';

export interface AppliedWork {
  experimentBuckets: number;
  sessionBuckets: number;
  versionsUpdated: number;
}

/**
 * Order matters: locks first; whole experiments; participants' first sessions (which add
 * experiment hours); session buckets (the experiment recount uses them to find who talked when);
 * experiment buckets; versions.
 */
export async function applyWork(
  tx: Executor,
  work: RefreshWork,
  excludedPlatforms: readonly string[],
): Promise<AppliedWork> {
  await lockExperiments(tx, [...work.lockExperiments]);
  const whole = work.wholeExperiments;
  const result: AppliedWork = { experimentBuckets: 0, sessionBuckets: 0, versionsUpdated: 0 };
  if (whole.size > 0) {
    const rebuilt = await rebuildExperiments(tx, [...whole], excludedPlatforms);
    result.experimentBuckets += rebuilt.experimentBuckets;
    result.sessionBuckets += rebuilt.sessionBuckets;
    result.versionsUpdated += rebuilt.versionsUpdated;
  }
  const notWhole = (key: string) => !whole.has(Number(key.slice(0, key.indexOf('|'))));

  const [pairExperiments, pairParticipants] = splitKeys(
    [...work.participants].filter(notWhole),
    Number,
    Number,
  );
  const moved = await recomputeParticipantFirsts(tx, pairExperiments, pairParticipants, excludedPlatforms);
  for (const { experimentId, at } of moved) work.experimentHours.add(`${experimentId}|${at}`);

  const rebuilt = await rebuildWholeSessions(tx, [...work.wholeSessions]);
  result.sessionBuckets += rebuilt.length;
  for (const { experimentId, at } of rebuilt) work.experimentHours.add(`${experimentId}|${at}`);
  const sessionKeys = [...work.sessionHours].filter(
    (key) => !work.wholeSessions.has(Number(key.slice(0, key.indexOf('|')))),
  );
  const [sessionIds, sessionInstants] = splitKeys(sessionKeys, Number, String);
  result.sessionBuckets += await recomputeSessionBuckets(tx, sessionIds, sessionInstants);

  const [experimentIds, experimentInstants] = splitKeys(
    [...work.experimentHours].filter(notWhole),
    Number,
    String,
  );
  result.experimentBuckets += await recomputeExperimentBuckets(
    tx,
    experimentIds,
    experimentInstants,
    excludedPlatforms,
  );

  if (work.versionSessions.size > 0) {
    result.versionsUpdated += await updateVersionsCache(tx, { sessionIds: [...work.versionSessions] });
  }
  return result;
}
