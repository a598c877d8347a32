/** The arbitraries both incremental-refresh property tests draw from (statcache's and OCS's tables). */
import fc from 'fast-check';

const BASE = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;

/** Runs per property test (STATCACHE_PROPERTY_RUNS overrides `fallback`). */
export function propertyRuns(fallback: number): number {
  return Number(process.env.STATCACHE_PROPERTY_RUNS ?? fallback);
}

/** An instant from "two months ago" to "now + 1 day", often exactly on an hour boundary. */
export const instant = fc
  .tuple(fc.integer({ min: -24 * 60, max: 24 }), fc.constantFrom(0, 0, 1, 59 * 60_000 + 59_999, 1_800_000))
  .map(([hours, ms]) => new Date(BASE + hours * HOUR + ms).toISOString());

/** An index into whatever rows exist (taken modulo their number). */
export const pick = fc.nat({ max: 1_000 });

/** A `now` for compression, from a month before the data to weeks after it, to the millisecond. */
export const compressNow = fc
  .integer({ min: -24 * 30, max: 24 * 60 })
  .chain((hours) => fc.constantFrom(0, 1, -1, 1_800_000).map((ms) => new Date(BASE + hours * HOUR + ms)));

export const policy = fc.record({
  hourlyRetentionHours: fc.integer({ min: 1, max: 48 }),
  dailyRetentionDays: fc.integer({ min: 2, max: 40 }),
});

/** The i-th of `items`, wrapping; undefined when there are none. */
export const nth = <T>(items: T[], i: number): T | undefined =>
  items.length === 0 ? undefined : items[i % items.length];
