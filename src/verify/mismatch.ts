/** What verify reports: each stored value that differs from a live recount of the source tables. */
import type { BucketSize } from '../buckets/bucket-sizes.js';

export interface ExperimentBucketValues {
  sessions: number;
  participants: number;
  humanMessages: number;
  /** ISO-8601 UTC, or null. */
  lastActivityAt: string | null;
}

export interface SessionBucketValues {
  humanMessages: number;
  lastActivityAt: string | null;
  /** Where the bucket is filed: its session's experiment and platform (the experiment recount trusts them). */
  experimentId: number;
  /** NULL when the session has no platform (a nullable platform in the source profile). */
  platform: string | null;
}

/** A stored bucket differs from the recount; `null` on one side means that bucket should not / does exist. */
export interface ExperimentBucketMismatch {
  kind: 'experiment_bucket';
  experimentId: number;
  bucketSize: BucketSize;
  bucketStart: string;
  expected: ExperimentBucketValues | null;
  actual: ExperimentBucketValues | null;
}

/** An experiment's stored totals differ from the recount (`null`: should not / does exist). */
export interface ExperimentTotalsMismatch {
  kind: 'experiment_totals';
  experimentId: number;
  expected: ExperimentBucketValues | null;
  actual: ExperimentBucketValues | null;
}

export interface SessionBucketMismatch {
  kind: 'session_bucket';
  sessionId: number;
  bucketSize: BucketSize;
  bucketStart: string;
  expected: SessionBucketValues | null;
  actual: SessionBucketValues | null;
}

export interface SessionVersionsMismatch {
  kind: 'session_versions';
  sessionId: number;
  expected: string[];
  actual: string[];
}

/** Buckets (or a totals row) left behind by an experiment or session that no longer exists. */
export interface OrphanBucketsMismatch {
  kind: 'orphan_buckets';
  table: 'experiment_statistics_buckets' | 'session_statistics_buckets' | 'statcache_experiment_totals';
  id: number;
  buckets: number;
}

/** A bucket inside a coarser bucket of the same entity (`id`: experiment or session). */
export interface OverlappingBucketsMismatch {
  kind: 'overlapping_buckets';
  table: 'experiment_statistics_buckets' | 'session_statistics_buckets';
  id: number;
  bucketSize: BucketSize;
  bucketStart: string;
  coveredBy: { bucketSize: BucketSize; bucketStart: string };
}

export type Mismatch =
  | ExperimentBucketMismatch
  | ExperimentTotalsMismatch
  | OverlappingBucketsMismatch
  | SessionBucketMismatch
  | SessionVersionsMismatch
  | OrphanBucketsMismatch;

export interface VerifyResult {
  checked: { experiments: number; sessions: number };
  /** Real drift: differences no pending change explains. */
  mismatches: Mismatch[];
  /** Lag: differences a change not yet refreshed explains (the next refresh applies it). */
  pending: Mismatch[];
}
