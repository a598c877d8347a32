/**
 * The full rebuild's scheduler over several connections: every batch's buckets and versions run
 * exactly once, versions only after `prepare` and after that batch's buckets, `prepare` on lane 0
 * while the other lanes write buckets, and the first failure stops the lanes and is rethrown.
 */
import { describe, expect, it } from 'vitest';
import type { StatDb } from '../src/db/types.js';
import { runLanes } from '../src/rebuild/rebuild-lanes.js';

const lanes = (n: number) => Array.from({ length: n }, (_, i) => ({ lane: i }) as unknown as StatDb);
const laneOf = (db: StatDb) => (db as unknown as { lane: number }).lane;
const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runLanes', () => {
  it.each([1, 2, 5])('runs each half of each batch once, in order, on %i lane(s)', async (n) => {
    const log: string[] = [];
    const done: number[] = [];
    await runLanes(lanes(n), {
      batches: [1, 2, 3, 4, 5, 6, 7],
      prepare: async (db) => {
        log.push(`prepare@${laneOf(db)}`);
        await tick(5);
        log.push('prepared');
      },
      buckets: async (_db, b) => {
        log.push(`b${b}`);
        await tick(b % 3);
      },
      versions: async (_db, b) => {
        log.push(`v${b}`);
        await tick(1);
      },
      onBatchDone: (b) => done.push(b),
    });
    expect(log[0]).toBe('prepare@0');
    for (let b = 1; b <= 7; b++) {
      expect(log.filter((e) => e === `b${b}`)).toHaveLength(1);
      expect(log.filter((e) => e === `v${b}`)).toHaveLength(1);
      expect(log.indexOf(`v${b}`)).toBeGreaterThan(log.indexOf(`b${b}`));
      expect(log.indexOf(`v${b}`)).toBeGreaterThan(log.indexOf('prepared'));
    }
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Buckets are taken in the order given.
    expect(log.filter((e) => e.startsWith('b'))).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7']);
  });

  it('writes buckets on the other lanes while lane 0 prepares', async () => {
    const during: string[] = [];
    let preparing = false;
    await runLanes(lanes(2), {
      batches: [1, 2, 3],
      prepare: async () => {
        preparing = true;
        await tick(30);
        preparing = false;
      },
      buckets: async (db, b) => {
        if (preparing) during.push(`b${b}@${laneOf(db)}`);
        await tick(2);
      },
      versions: async () => {},
    });
    expect(during).toEqual(['b1@1', 'b2@1', 'b3@1']);
  });

  it('stops taking batches after a failure and rethrows it once the running ones end', async () => {
    const started: number[] = [];
    let running = 0;
    let maxRunningAfterFailure = 0;
    let failed = false;
    const error = await runLanes(lanes(2), {
      batches: [1, 2, 3, 4, 5, 6],
      buckets: async (_db, b) => {
        started.push(b);
        running += 1;
        if (failed) maxRunningAfterFailure = Math.max(maxRunningAfterFailure, running);
        await tick(3);
        running -= 1;
        if (b === 2) {
          failed = true;
          throw new Error('batch 2 failed');
        }
      },
      versions: async () => {},
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('batch 2 failed');
    expect(started.length).toBeLessThan(6);
    expect(maxRunningAfterFailure).toBe(0);
  });

  it('a failed prepare fails the run and no versions are written', async () => {
    const versions: number[] = [];
    const error = await runLanes(lanes(2), {
      batches: [1, 2],
      prepare: async () => {
        await tick(5);
        throw new Error('prepare failed');
      },
      buckets: async () => {
        await tick(1);
      },
      versions: async (_db, b) => {
        versions.push(b);
      },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('prepare failed');
    expect(versions).toEqual([]);
  });
});
