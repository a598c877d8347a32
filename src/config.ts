/**
 * The one typed configuration. Every environment variable statcache reads is read here, validated
 * once, and reported with the variable name, the bad value and a good example.
 */
import { CronExpressionParser } from 'cron-parser';
import { type CompressionPolicy, DEFAULT_COMPRESSION_POLICY } from './buckets/shape.js';
import { parseRedisCluster, type RedisClusterConfig } from './config-redis.js';
import { parseTimeouts, type Timeouts } from './config-timeouts.js';
import {
  parseBoolean,
  parseDatabaseReadUrl,
  parseRedisUrl,
  parseToken,
  parseUrl,
  parseWhole,
} from './config-values.js';
import { ConfigError } from './errors/error-classes.js';
import { resolveSourceProfile } from './source/resolve-source-profile.js';
import type { SourceProfile } from './source/source-profile.js';
import { DAY_MS, HOUR_MS } from './time/durations.js';

/** Log levels, as pino names them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Used when DATABASE_URL is unset (the local development server). */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** @defaultValue redis://127.0.0.1:6379 */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Sessions on these platforms count nowhere in experiment buckets. */
export const DEFAULT_EXCLUDED_PLATFORMS: readonly string[] = ['evaluations'];
/** The most pending changes a fresh read recounts (STATCACHE_FRESH_MAX_PENDING). */
export const DEFAULT_FRESH_MAX_PENDING = 5_000;
const MAX_FRESH_MAX_PENDING = 10_000_000;
/** Experiments per refresh/verify transaction: bounds lock time and memory on skewed traffic. */
export const DEFAULT_BATCH_EXPERIMENTS = 50;
const MAX_BATCH_EXPERIMENTS = 10_000;
/** Connections a full rebuild runs its batches on at once (STATCACHE_REBUILD_CONCURRENCY). */
export const DEFAULT_REBUILD_CONCURRENCY = 2;
const MAX_REBUILD_CONCURRENCY = 32;
/** Change rows per incremental refresh transaction: bounds lock time while writers wait. */
export const DEFAULT_BATCH_CHANGES = 50_000;
const MAX_BATCH_CHANGES = 1_000_000;
/** Retention limits: ten years, far beyond any useful policy, but keeps date arithmetic sane. */
const MAX_KEEP_DAILY_DAYS = 3660;
const MAX_KEEP_HOURLY_HOURS = 24 * MAX_KEEP_DAILY_DAYS;
/** The longest refresh interval: once a day. */
const MAX_REFRESH_EVERY_MS = DAY_MS;
/** The longest shutdown deadline, job backoff and job lock: an hour. */
const MAX_WAIT_MS = HOUR_MS;

export interface StatcacheConfig {
  /** PostgreSQL URL of the chat database. @defaultValue {@link DEFAULT_DATABASE_URL} */
  databaseUrl: string;
  /** True when DATABASE_URL was not set (the demo then uses embedded PGlite). */
  databaseUrlIsDefault: boolean;
  /**
   * A read replica's URL (DATABASE_READ_URL): plain reads of `serve`, `totals` and `sessions` go there;
   * writes, fresh reads and all that must see the primary stay on DATABASE_URL. @defaultValue null
   */
  databaseReadUrl: string | null;
  /** Redis URL for the job queue. @defaultValue {@link DEFAULT_REDIS_URL} */
  redisUrl: string;
  /**
   * Redis Cluster for the job queue instead of REDIS_URL's single Redis: REDIS_CLUSTER_NODES, with
   * REDIS_CLUSTER_USERNAME, _PASSWORD and _TLS (src/config-redis.ts). @defaultValue null
   */
  redisCluster: RedisClusterConfig | null;
  /** Platforms whose sessions are excluded from experiment buckets. @defaultValue ['evaluations'] */
  excludedPlatforms: string[];
  /** Experiments per refresh and verify batch. @defaultValue 50 */
  batchExperiments: number;
  /** Change rows per incremental refresh transaction. @defaultValue 50000 */
  batchChanges: number;
  /** Connections a full rebuild runs batches on at once (each one busy core). @defaultValue 2 */
  rebuildConcurrency: number;
  /**
   * The compression policy: hourly buckets kept STATCACHE_KEEP_HOURLY_HOURS (24), daily buckets
   * STATCACHE_KEEP_DAILY_DAYS (30), monthly forever.
   */
  compression: CompressionPolicy;
  /** The BullMQ worker's schedules, retries and shutdown. */
  worker: WorkerConfig;
  /**
   * The most pending changes a fresh read (`--fresh`, `?fresh=1`) recounts before it answers from
   * the cache instead, saying so (STATCACHE_FRESH_MAX_PENDING). @defaultValue 5000
   */
  freshMaxPending: number;
  /**
   * The dashboard's shared token (STATCACHE_DASHBOARD_TOKEN, at least 16 characters): with it every
   * route but /healthz needs it, and `serve` may listen beyond loopback. @defaultValue none
   */
  dashboardToken: string | null;
  /** Whether /queues may retry, promote or delete jobs (STATCACHE_QUEUE_BOARD_WRITABLE). @defaultValue false */
  queueBoardWritable: boolean;
  /** Connect and statement timeouts for PostgreSQL and Redis (src/config-timeouts.ts). */
  timeouts: Timeouts;
  /** @defaultValue 'info' */
  logLevel: LogLevel;
  /**
   * Where the platform keeps what statcache reads (STATCACHE_SOURCE: `statcache`, `ocs`, or a JSON
   * profile file). @defaultValue the statcache demo schema
   */
  source: SourceProfile;
}

export interface WorkerConfig {
  /** Redis key prefix of the queue; `{statcache}` keeps every key in one Redis Cluster slot. @defaultValue 'statcache' */
  queuePrefix: string;
  /** Incremental refresh interval. @defaultValue 60000 (every minute) */
  refreshEveryMs: number;
  /** Compression schedule, a cron pattern in UTC. @defaultValue '15 0 * * *' */
  compressCron: string;
  /** Sampled verification schedule, a cron pattern in UTC. @defaultValue '0 * * * *' */
  verifyCron: string;
  /** Experiments (with all their sessions) recounted per verify-sample run. @defaultValue 20 */
  verifySample: number;
  /** How long a running job may take to finish after SIGTERM/SIGINT. @defaultValue 30000 */
  shutdownTimeoutMs: number;
  /** Attempts per job, with exponential backoff from jobBackoffMs. @defaultValue 5 */
  jobAttempts: number;
  /** @defaultValue 5000 */
  jobBackoffMs: number;
  /** A job whose worker stops renewing its lock for this long (kill -9) is retried. @defaultValue 30000 */
  jobLockMs: number;
}

export const DEFAULT_WORKER_CONFIG: Readonly<WorkerConfig> = {
  queuePrefix: 'statcache',
  refreshEveryMs: 60_000,
  compressCron: '15 0 * * *',
  verifyCron: '0 * * * *',
  verifySample: 20,
  shutdownTimeoutMs: 30_000,
  jobAttempts: 5,
  jobBackoffMs: 5_000,
  jobLockMs: 30_000,
};

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration from `env` (process.env by default). Throws ConfigError. */
export function loadConfig(env: Env = process.env): StatcacheConfig {
  const rawDatabaseUrl = env.DATABASE_URL?.trim();
  const worker = parseWorker(env);
  return {
    databaseUrl: rawDatabaseUrl
      ? parseUrl('DATABASE_URL', rawDatabaseUrl, ['postgres:', 'postgresql:'], DEFAULT_DATABASE_URL)
      : DEFAULT_DATABASE_URL,
    databaseUrlIsDefault: !rawDatabaseUrl,
    databaseReadUrl: parseDatabaseReadUrl(env.DATABASE_READ_URL),
    redisUrl: parseRedisUrl(env.REDIS_URL?.trim() || DEFAULT_REDIS_URL, DEFAULT_REDIS_URL),
    // On a cluster the queue prefix must carry a hash tag.
    redisCluster: parseRedisCluster(env, worker.queuePrefix),
    excludedPlatforms: parsePlatforms(env.STATCACHE_EXCLUDED_PLATFORMS),
    batchExperiments: parseWhole(
      'STATCACHE_BATCH_EXPERIMENTS',
      env.STATCACHE_BATCH_EXPERIMENTS,
      DEFAULT_BATCH_EXPERIMENTS,
      MAX_BATCH_EXPERIMENTS,
    ),
    batchChanges: parseWhole(
      'STATCACHE_BATCH_CHANGES',
      env.STATCACHE_BATCH_CHANGES,
      DEFAULT_BATCH_CHANGES,
      MAX_BATCH_CHANGES,
    ),
    rebuildConcurrency: parseWhole(
      'STATCACHE_REBUILD_CONCURRENCY',
      env.STATCACHE_REBUILD_CONCURRENCY,
      DEFAULT_REBUILD_CONCURRENCY,
      MAX_REBUILD_CONCURRENCY,
    ),
    compression: parsePolicy(env),
    worker,
    freshMaxPending: parseWhole(
      'STATCACHE_FRESH_MAX_PENDING',
      env.STATCACHE_FRESH_MAX_PENDING,
      DEFAULT_FRESH_MAX_PENDING,
      MAX_FRESH_MAX_PENDING,
      0,
    ),
    dashboardToken: parseToken(env.STATCACHE_DASHBOARD_TOKEN),
    queueBoardWritable: parseBoolean('STATCACHE_QUEUE_BOARD_WRITABLE', env.STATCACHE_QUEUE_BOARD_WRITABLE),
    timeouts: parseTimeouts(env),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    source: resolveSourceProfile(env.STATCACHE_SOURCE),
  };
}

function parseWorker(env: Env): WorkerConfig {
  const d = DEFAULT_WORKER_CONFIG;
  const prefix = env.STATCACHE_QUEUE_PREFIX?.trim() || d.queuePrefix;
  if (!/^[\w.:{}-]{1,100}$/.test(prefix)) {
    throw new ConfigError(
      'STATCACHE_QUEUE_PREFIX',
      prefix,
      'must be 1–100 letters, digits or . : _ - { }; example: {statcache}',
    );
  }
  return {
    queuePrefix: prefix,
    refreshEveryMs: parseWhole(
      'STATCACHE_REFRESH_EVERY_MS',
      env.STATCACHE_REFRESH_EVERY_MS,
      d.refreshEveryMs,
      MAX_REFRESH_EVERY_MS,
      100,
    ),
    compressCron: parseCron('STATCACHE_COMPRESS_CRON', env.STATCACHE_COMPRESS_CRON, d.compressCron),
    verifyCron: parseCron('STATCACHE_VERIFY_CRON', env.STATCACHE_VERIFY_CRON, d.verifyCron),
    verifySample: parseWhole('STATCACHE_VERIFY_SAMPLE', env.STATCACHE_VERIFY_SAMPLE, d.verifySample, 100_000),
    shutdownTimeoutMs: parseWhole(
      'STATCACHE_SHUTDOWN_TIMEOUT_MS',
      env.STATCACHE_SHUTDOWN_TIMEOUT_MS,
      d.shutdownTimeoutMs,
      MAX_WAIT_MS,
    ),
    jobAttempts: parseWhole('STATCACHE_JOB_ATTEMPTS', env.STATCACHE_JOB_ATTEMPTS, d.jobAttempts, 100),
    jobBackoffMs: parseWhole(
      'STATCACHE_JOB_BACKOFF_MS',
      env.STATCACHE_JOB_BACKOFF_MS,
      d.jobBackoffMs,
      MAX_WAIT_MS,
      10,
    ),
    jobLockMs: parseWhole(
      'STATCACHE_JOB_LOCK_MS',
      env.STATCACHE_JOB_LOCK_MS,
      d.jobLockMs,
      MAX_WAIT_MS,
      1_000,
    ),
  };
}

/** A five-field cron pattern (minute hour day month weekday), read in UTC. */
function parseCron(variable: string, value: string | undefined, fallback: string): string {
  const pattern = value?.trim() || fallback;
  const fields = pattern.split(/\s+/);
  let valid = fields.length === 5;
  if (valid) {
    try {
      CronExpressionParser.parse(pattern, { tz: 'UTC' });
    } catch {
      valid = false;
    }
  }
  if (!valid)
    throw new ConfigError(
      variable,
      pattern,
      `must be a cron pattern of 5 fields in UTC; example: ${fallback}`,
    );
  return pattern;
}

function parsePolicy(env: Env): CompressionPolicy {
  const hourlyRetentionHours = parseWhole(
    'STATCACHE_KEEP_HOURLY_HOURS',
    env.STATCACHE_KEEP_HOURLY_HOURS,
    DEFAULT_COMPRESSION_POLICY.hourlyRetentionHours,
    MAX_KEEP_HOURLY_HOURS,
  );
  const dailyRetentionDays = parseWhole(
    'STATCACHE_KEEP_DAILY_DAYS',
    env.STATCACHE_KEEP_DAILY_DAYS,
    DEFAULT_COMPRESSION_POLICY.dailyRetentionDays,
    MAX_KEEP_DAILY_DAYS,
  );
  if (dailyRetentionDays * 24 < hourlyRetentionHours) {
    throw new ConfigError(
      'STATCACHE_KEEP_DAILY_DAYS',
      String(dailyRetentionDays),
      `must keep daily buckets at least as long as STATCACHE_KEEP_HOURLY_HOURS keeps hourly ones (${hourlyRetentionHours} h); example: ${Math.ceil(hourlyRetentionHours / 24)}`,
    );
  }
  return { hourlyRetentionHours, dailyRetentionDays };
}

function parsePlatforms(value: string | undefined): string[] {
  if (value === undefined) return [...DEFAULT_EXCLUDED_PLATFORMS];
  const platforms = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  // An explicitly empty value means "exclude nothing".
  return [...new Set(platforms)];
}

function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value.trim() === '') return 'info';
  const level = value.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', value, `must be one of ${LOG_LEVELS.join(', ')}; example: info`);
  }
  return level as LogLevel;
}
