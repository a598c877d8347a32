/**
 * statcache's public API. Everything not exported here is internal.
 * Every function takes a drizzle PostgreSQL database as its first argument: one from createDb, or
 * an application's own.
 */

export { BUCKET_SIZES, type BucketSize } from './buckets/bucket-sizes.js';
export {
  type BucketShape,
  type CompressionPolicy,
  DEFAULT_COMPRESSION_POLICY,
  HOURLY_SHAPE,
  shapeAt,
} from './buckets/shape.js';
export {
  type BucketCounts,
  type CompressOptions,
  type CompressResult,
  compress,
} from './compress/compress.js';
export { type LogLevel, loadConfig, type StatcacheConfig } from './config.js';
export { type CreateDbOptions, createDb, type NodePgStatDb } from './db/create-db.js';
export { createPgliteDb, type PgliteStatDb } from './db/create-pglite-db.js';
export type { StatDb } from './db/types.js';
export {
  ConfigError,
  DatabaseUnreachableError,
  InvalidInputError,
  NotFoundError,
  SchemaNotMigratedError,
  StatcacheError,
} from './errors/error-classes.js';
export { type MigrateResult, migrate, schemaStatus } from './install/migrate.js';
export type { ReadOptions } from './read/fresh/read-options.js';
export type { SeriesMap } from './read/fresh/series-sql.js';
export type { FreshMap, Freshness } from './read/freshness.js';
export { getExperimentSeries } from './read/get-experiment-series.js';
export { getExperimentTotals } from './read/get-experiment-totals.js';
export { getSessionSeries } from './read/get-session-series.js';
export { getSessionTotals } from './read/get-session-totals.js';
export {
  EXPERIMENT_SORT_KEYS,
  type ExperimentRow,
  type ExperimentSortKey,
  type ListExperimentsOptions,
  listExperiments,
} from './read/list-experiments.js';
export {
  type ListSessionsOptions,
  listSessions,
  SESSION_SORT_KEYS,
  type SessionRow,
  type SessionSortKey,
} from './read/list-sessions.js';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type SortOrder } from './read/page-options.js';
export type {
  ExperimentSeriesPoint,
  SeriesOptions,
  SeriesRange,
  SessionSeriesPoint,
} from './read/series-types.js';
export type { ExperimentTotals, Page, SessionTotals } from './read/totals-types.js';
export {
  type RefreshFullOptions,
  type RefreshProgress,
  type RefreshResult,
  refreshFull,
} from './rebuild/refresh-full.js';
export {
  type IncrementalResult,
  type RefreshIncrementalOptions,
  refreshIncremental,
} from './refresh/refresh-incremental.js';
export * as schema from './schema/index.js';
export { type SeedOptions, type SeedResult, seedWorkload } from './seed/seed-workload.js';
export { type WorkloadSize, workloadSize } from './seed/workload-size.js';
export { BUILTIN_PROFILES, OCS_PROFILE, STATCACHE_PROFILE } from './source/builtin-profiles.js';
export { checkSource, type SourceCheck } from './source/check-source.js';
export { resolveSourceProfile } from './source/resolve-source-profile.js';
export type { SourceProfile } from './source/source-profile.js';
export { getReplicaStatus, type ReplicaStatus } from './status/get-replica-status.js';
export { type CacheStatus, getStatus } from './status/get-status.js';
export type { Mismatch, VerifyResult } from './verify/mismatch.js';
export { type VerifyOptions, verify } from './verify/verify.js';
