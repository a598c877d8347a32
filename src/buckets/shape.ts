/**
 * The compression policy and the bucket shape it implies at a given instant. Hourly buckets are kept
 * for `hourlyRetentionHours`, daily for `dailyRetentionDays`, monthly forever; only whole UTC days and
 * months are ever merged.
 */
import { InvalidInputError } from '../errors/error-classes.js';
import { DAY_MS, HOUR_MS } from '../time/durations.js';

export interface CompressionPolicy {
  /** Hourly buckets younger than this stay hourly. @defaultValue 24 */
  hourlyRetentionHours: number;
  /** Daily buckets younger than this stay daily. @defaultValue 30 */
  dailyRetentionDays: number;
}

export const DEFAULT_COMPRESSION_POLICY: Readonly<CompressionPolicy> = {
  hourlyRetentionHours: 24,
  dailyRetentionDays: 30,
};

/**
 * Where bucket sizes change. Instants before `monthBefore` belong in monthly buckets, instants
 * before `dayBefore` in daily ones, the rest in hourly ones. Both are UTC period boundaries (a month
 * start, a day start), so a period is always wholly on one side; null means "no buckets of that size".
 */
export interface BucketShape {
  dayBefore: Date | null;
  monthBefore: Date | null;
}

/** Hourly buckets everywhere: what a full rebuild writes when no policy is applied. */
export const HOURLY_SHAPE: Readonly<BucketShape> = { dayBefore: null, monthBefore: null };

/**
 * The shape the policy prescribes at `now`: a day is daily once all of it ends at or before the
 * hourly cutoff (now − hourly retention), a month is monthly once all of it ends at or before the
 * daily cutoff (now − daily retention). Buckets are half-open, so a day [D, D+1) whose end equals
 * the cutoff holds no instant at or after it and is compressed.
 */
export function shapeAt(policy: CompressionPolicy, now: Date): BucketShape {
  if (Number.isNaN(now.getTime())) throw new InvalidInputError('now must be a valid date and time');
  const hourlyCutoff = new Date(now.getTime() - policy.hourlyRetentionHours * HOUR_MS);
  const dailyCutoff = new Date(now.getTime() - policy.dailyRetentionDays * DAY_MS);
  const dayBefore = startOfUtcDay(hourlyCutoff);
  // Never monthly where days are not yet daily (a policy with daily retention under hourly's).
  const monthBefore = startOfUtcMonth(dailyCutoff < dayBefore ? dailyCutoff : dayBefore);
  return { dayBefore, monthBefore };
}

function startOfUtcDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

function startOfUtcMonth(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}
