/**
 * How a full rebuild spreads its work over several connections (lanes). Each batch is two
 * transactions, its buckets and its sessions' versions; the versions may first need every chat's
 * versions computed (`prepare`, run on lane 0 while the other lanes write buckets). A lane takes,
 * in order of preference: the versions of a batch whose buckets are written (once prepared), the
 * buckets of the next batch, else waits for either to become possible. Batches are taken in the
 * order given (id order puts the busiest experiments of skewed traffic first, so the longest
 * transactions start early and no lane idles at the end for long). The first failure stops every
 * lane from taking more; it is rethrown once the running transactions end.
 */
import type { StatDb } from '../db/types.js';

export interface LanePlan<B> {
  batches: readonly B[];
  /** Runs on lane 0 before it takes any batch; versions wait for it. */
  prepare?: (lane: StatDb) => Promise<void>;
  buckets: (lane: StatDb, batch: B) => Promise<void>;
  versions: (lane: StatDb, batch: B) => Promise<void>;
  /** Called once both halves of a batch are written. */
  onBatchDone?: (batch: B) => void;
}

export async function runLanes<B>(lanes: readonly StatDb[], plan: LanePlan<B>): Promise<void> {
  let nextBuckets = 0;
  const versionsReady: B[] = [];
  let prepared = plan.prepare === undefined;
  let running = 0;
  let failure: { error: unknown } | null = null;
  // Resolved (and replaced) whenever a lane finishes something another lane may be waiting for.
  let wake: () => void = () => {};
  let changed = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const notify = () => {
    const resolve = wake;
    changed = new Promise<void>((r) => {
      wake = r;
    });
    resolve();
  };
  const fail = (error: unknown) => {
    failure ??= { error };
    notify();
  };

  const lane = async (db: StatDb, index: number) => {
    if (index === 0 && plan.prepare) {
      try {
        await plan.prepare(db);
        prepared = true;
      } catch (error) {
        fail(error);
      }
      notify();
    }
    for (;;) {
      if (failure !== null) return;
      let job: (() => Promise<void>) | null = null;
      if (prepared && versionsReady.length > 0) {
        const batch = versionsReady.shift() as B;
        job = async () => {
          await plan.versions(db, batch);
          plan.onBatchDone?.(batch);
        };
      } else if (nextBuckets < plan.batches.length) {
        const batch = plan.batches[nextBuckets++] as B;
        job = async () => {
          await plan.buckets(db, batch);
          versionsReady.push(batch);
        };
      } else if (versionsReady.length === 0 && running === 0) return;
      if (job === null) {
        // Versions are waiting for `prepare`, or buckets another lane writes will make some.
        await changed;
        continue;
      }
      running += 1;
      try {
        await job();
      } catch (error) {
        fail(error);
      } finally {
        running -= 1;
        notify();
      }
    }
  };
  await Promise.all(lanes.map((db, i) => lane(db, i)));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
