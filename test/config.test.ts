/** loadConfig: defaults, and one error per bad variable naming it, its value and a good example. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors/error-classes.js';
import { OCS_PROFILE, STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';

describe('loadConfig', () => {
  it('has working defaults', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      databaseUrlIsDefault: true,
      databaseReadUrl: null,
      redisUrl: 'redis://127.0.0.1:6379',
      redisCluster: null,
      excludedPlatforms: ['evaluations'],
      batchExperiments: 50,
      batchChanges: 50000,
      rebuildConcurrency: 2,
      compression: { hourlyRetentionHours: 24, dailyRetentionDays: 30 },
      worker: {
        queuePrefix: 'statcache',
        refreshEveryMs: 60000,
        compressCron: '15 0 * * *',
        verifyCron: '0 * * * *',
        verifySample: 20,
        shutdownTimeoutMs: 30000,
        jobAttempts: 5,
        jobBackoffMs: 5000,
        jobLockMs: 30000,
      },
      freshMaxPending: 5000,
      dashboardToken: null,
      queueBoardWritable: false,
      timeouts: {
        pgConnectMs: 5000,
        pgStatementMs: 600000,
        readStatementMs: 60000,
        redisConnectMs: 5000,
        redisCommandMs: 5000,
      },
      logLevel: 'info',
      source: STATCACHE_PROFILE,
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        DATABASE_URL: 'postgresql://u:p@db:6432/chat',
        DATABASE_READ_URL: ' postgres://u:p@replica:5432/chat ',
        REDIS_URL: 'rediss://cache:6380',
        STATCACHE_EXCLUDED_PLATFORMS: 'evaluations, sandbox,,evaluations',
        STATCACHE_BATCH_EXPERIMENTS: '200',
        STATCACHE_BATCH_CHANGES: '100',
        STATCACHE_REBUILD_CONCURRENCY: '4',
        STATCACHE_KEEP_HOURLY_HOURS: '48',
        STATCACHE_KEEP_DAILY_DAYS: '2',
        STATCACHE_QUEUE_PREFIX: '{statcache}',
        STATCACHE_REFRESH_EVERY_MS: '5000',
        STATCACHE_COMPRESS_CRON: '30 1 * * *',
        STATCACHE_VERIFY_CRON: '*/10 * * * *',
        STATCACHE_VERIFY_SAMPLE: '5',
        STATCACHE_SHUTDOWN_TIMEOUT_MS: '1000',
        STATCACHE_JOB_ATTEMPTS: '3',
        STATCACHE_JOB_BACKOFF_MS: '100',
        STATCACHE_JOB_LOCK_MS: '2000',
        LOG_LEVEL: 'DEBUG',
        STATCACHE_SOURCE: 'ocs',
        STATCACHE_FRESH_MAX_PENDING: '50',
        STATCACHE_DASHBOARD_TOKEN: ' 0123456789abcdef0123 ',
        STATCACHE_QUEUE_BOARD_WRITABLE: 'true',
        STATCACHE_PG_CONNECT_TIMEOUT_MS: '1500',
        STATCACHE_PG_STATEMENT_TIMEOUT_MS: '0',
        STATCACHE_READ_TIMEOUT_MS: '2000',
        STATCACHE_REDIS_CONNECT_TIMEOUT_MS: '250',
        STATCACHE_REDIS_COMMAND_TIMEOUT_MS: '750',
      }),
    ).toEqual({
      databaseUrl: 'postgresql://u:p@db:6432/chat',
      databaseUrlIsDefault: false,
      databaseReadUrl: 'postgres://u:p@replica:5432/chat',
      redisUrl: 'rediss://cache:6380',
      redisCluster: null,
      excludedPlatforms: ['evaluations', 'sandbox'],
      batchExperiments: 200,
      batchChanges: 100,
      rebuildConcurrency: 4,
      compression: { hourlyRetentionHours: 48, dailyRetentionDays: 2 },
      worker: {
        queuePrefix: '{statcache}',
        refreshEveryMs: 5000,
        compressCron: '30 1 * * *',
        verifyCron: '*/10 * * * *',
        verifySample: 5,
        shutdownTimeoutMs: 1000,
        jobAttempts: 3,
        jobBackoffMs: 100,
        jobLockMs: 2000,
      },
      freshMaxPending: 50,
      dashboardToken: '0123456789abcdef0123',
      queueBoardWritable: true,
      timeouts: {
        pgConnectMs: 1500,
        pgStatementMs: 0,
        readStatementMs: 2000,
        redisConnectMs: 250,
        redisCommandMs: 750,
      },
      logLevel: 'debug',
      source: OCS_PROFILE,
    });
  });

  it('lets an empty STATCACHE_EXCLUDED_PLATFORMS exclude nothing', () => {
    expect(loadConfig({ STATCACHE_EXCLUDED_PLATFORMS: '' }).excludedPlatforms).toEqual([]);
  });

  it('reads no replica from an unset or empty DATABASE_READ_URL', () => {
    expect(loadConfig({ DATABASE_READ_URL: '' }).databaseReadUrl).toBeNull();
    expect(loadConfig({ DATABASE_READ_URL: '  ' }).databaseReadUrl).toBeNull();
  });

  it('reads the Redis Cluster variables, REDIS_URL unset', () => {
    expect(
      loadConfig({
        REDIS_CLUSTER_NODES: ' 10.0.0.1:6379, redis-b.internal:7000,,[::1]:7001, 10.0.0.1:6379 ',
        REDIS_CLUSTER_USERNAME: ' statcache ',
        REDIS_CLUSTER_PASSWORD: ' pass word ',
        REDIS_CLUSTER_TLS: 'true',
        STATCACHE_QUEUE_PREFIX: 'chat:{statcache}',
        REDIS_URL: ' ',
      }),
    ).toMatchObject({
      redisCluster: {
        nodes: [
          { host: '10.0.0.1', port: 6379 },
          { host: 'redis-b.internal', port: 7000 },
          { host: '::1', port: 7001 },
        ],
        username: 'statcache',
        // Taken as written: a password is never trimmed.
        password: ' pass word ',
        tls: true,
      },
      worker: { queuePrefix: 'chat:{statcache}' },
    });
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: 'redis:6379', STATCACHE_QUEUE_PREFIX: '{s}' }).redisCluster,
    ).toEqual({
      nodes: [{ host: 'redis', port: 6379 }],
      username: null,
      password: null,
      tls: false,
    });
    // Set to nothing, the cluster variables are unset; REDIS_CLUSTER_TLS=false says nothing either way.
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: '', REDIS_CLUSTER_PASSWORD: '', REDIS_CLUSTER_TLS: 'false' })
        .redisCluster,
    ).toBeNull();
  });

  it.each([
    [
      { REDIS_CLUSTER_NODES: '10.0.0.1:6379,10.0.0.2', STATCACHE_QUEUE_PREFIX: '{statcache}' },
      "REDIS_CLUSTER_NODES must be comma-separated host:port pairs, but '10.0.0.2' is not one (the port must be a whole number from 1 to 65535); example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379 (got '10.0.0.1:6379,10.0.0.2')",
    ],
    [
      { REDIS_CLUSTER_NODES: 'redis:0', STATCACHE_QUEUE_PREFIX: '{statcache}' },
      "REDIS_CLUSTER_NODES must be comma-separated host:port pairs, but 'redis:0' is not one (the port must be a whole number from 1 to 65535); example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379 (got 'redis:0')",
    ],
    [
      { REDIS_CLUSTER_NODES: 'redis:65536', STATCACHE_QUEUE_PREFIX: '{statcache}' },
      "REDIS_CLUSTER_NODES must be comma-separated host:port pairs, but 'redis:65536' is not one (the port must be a whole number from 1 to 65535); example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379 (got 'redis:65536')",
    ],
    [
      { REDIS_CLUSTER_NODES: ':6379', STATCACHE_QUEUE_PREFIX: '{statcache}' },
      "REDIS_CLUSTER_NODES must be comma-separated host:port pairs, but ':6379' is not one (the port must be a whole number from 1 to 65535); example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379 (got ':6379')",
    ],
    [
      { REDIS_CLUSTER_NODES: 'rediss://redis:6379', STATCACHE_QUEUE_PREFIX: '{statcache}' },
      "REDIS_CLUSTER_NODES must be comma-separated host:port pairs, but 'rediss://redis:6379' is not one (write host:port without a scheme (REDIS_CLUSTER_TLS=true for TLS)); example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379 (got 'rediss://redis:6379')",
    ],
    [
      { REDIS_CLUSTER_NODES: 'user:secret@redis:6379', STATCACHE_QUEUE_PREFIX: '{statcache}' },
      "REDIS_CLUSTER_NODES must be comma-separated host:port pairs, but '***@redis:6379' is not one (credentials go in REDIS_CLUSTER_USERNAME and REDIS_CLUSTER_PASSWORD); example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379 (got '(hidden)')",
    ],
    [
      { REDIS_CLUSTER_NODES: ' , ', STATCACHE_QUEUE_PREFIX: '{statcache}' },
      "REDIS_CLUSTER_NODES must list at least one host:port; example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379 (got ',')",
    ],
    [
      { REDIS_CLUSTER_NODES: '10.0.0.1:6379' },
      "STATCACHE_QUEUE_PREFIX must contain a hash tag like {statcache} on Redis Cluster (REDIS_CLUSTER_NODES is set), so that all of the queue's keys live in one slot (got 'statcache')",
    ],
    [
      // Redis hashes the whole key when the first braces are empty.
      { REDIS_CLUSTER_NODES: '10.0.0.1:6379', STATCACHE_QUEUE_PREFIX: '{}{statcache}' },
      "STATCACHE_QUEUE_PREFIX must contain a hash tag like {statcache} on Redis Cluster (REDIS_CLUSTER_NODES is set), so that all of the queue's keys live in one slot (got '{}{statcache}')",
    ],
    [
      { REDIS_CLUSTER_NODES: '10.0.0.1:6379', STATCACHE_QUEUE_PREFIX: '{statcache' },
      "STATCACHE_QUEUE_PREFIX must contain a hash tag like {statcache} on Redis Cluster (REDIS_CLUSTER_NODES is set), so that all of the queue's keys live in one slot (got '{statcache')",
    ],
    [
      {
        REDIS_CLUSTER_NODES: '10.0.0.1:6379',
        REDIS_URL: 'redis://10.0.0.1:6379',
        STATCACHE_QUEUE_PREFIX: '{s}',
      },
      "REDIS_CLUSTER_NODES and REDIS_URL are both set: set REDIS_CLUSTER_NODES for a Redis Cluster or REDIS_URL for a single Redis, not both (got '10.0.0.1:6379')",
    ],
    [
      { REDIS_CLUSTER_USERNAME: 'statcache' },
      "REDIS_CLUSTER_USERNAME only applies with REDIS_CLUSTER_NODES: set that too (example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379), or unset this; for a single Redis put credentials in REDIS_URL (redis://user:password@host:6379) (got 'statcache')",
    ],
    [
      { REDIS_CLUSTER_PASSWORD: 'secret' },
      "REDIS_CLUSTER_PASSWORD only applies with REDIS_CLUSTER_NODES: set that too (example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379), or unset this; for a single Redis put credentials in REDIS_URL (redis://user:password@host:6379) (got '(hidden)')",
    ],
    [
      { REDIS_CLUSTER_TLS: 'true' },
      "REDIS_CLUSTER_TLS only applies with REDIS_CLUSTER_NODES: set that too (example: 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379), or unset this; for a single Redis put rediss:// in REDIS_URL (got 'true')",
    ],
    [{ REDIS_CLUSTER_TLS: 'yes' }, "REDIS_CLUSTER_TLS must be true or false; example: false (got 'yes')"],
    [
      { DATABASE_READ_URL: 'replica:5432' },
      "DATABASE_READ_URL must start with postgres:// or postgresql://; example: postgres://postgres@replica:5432/postgres (got 'replica:5432')",
    ],
    [
      { DATABASE_READ_URL: 'redis://u:secret@replica/0' },
      "DATABASE_READ_URL must start with postgres:// or postgresql://; example: postgres://postgres@replica:5432/postgres (got 'redis://u:***@replica/0')",
    ],
    [
      { DATABASE_READ_URL: 'not a url' },
      "DATABASE_READ_URL is not a URL; example: postgres://postgres@replica:5432/postgres (got 'not a url')",
    ],
    [
      { DATABASE_URL: 'not a url' },
      "DATABASE_URL is not a URL; example: postgres://postgres@127.0.0.1:5432/postgres (got 'not a url')",
    ],
    [
      { DATABASE_URL: 'mysql://db/chat' },
      "DATABASE_URL must start with postgres:// or postgresql://; example: postgres://postgres@127.0.0.1:5432/postgres (got 'mysql://db/chat')",
    ],
    [
      { REDIS_URL: 'http://cache' },
      "REDIS_URL must start with redis:// or rediss://; example: redis://127.0.0.1:6379 (got 'http://cache')",
    ],
    [
      { REDIS_URL: 'redis://127.0.0.1:6379/abc' },
      "REDIS_URL must name its database as a number after the port (redis://127.0.0.1:6379/0), not 'abc' (got 'redis://127.0.0.1:6379/abc')",
    ],
    [
      { DATABASE_URL: 'mysql://user:secret@db/chat' },
      "DATABASE_URL must start with postgres:// or postgresql://; example: postgres://postgres@127.0.0.1:5432/postgres (got 'mysql://user:***@db/chat')",
    ],
    [
      { STATCACHE_PG_CONNECT_TIMEOUT_MS: '50' },
      "STATCACHE_PG_CONNECT_TIMEOUT_MS must be a whole number from 100 to 86400000; example: 5000 (got '50')",
    ],
    [
      { STATCACHE_REDIS_COMMAND_TIMEOUT_MS: '5s' },
      "STATCACHE_REDIS_COMMAND_TIMEOUT_MS must be a whole number from 100 to 86400000; example: 5000 (got '5s')",
    ],
    [
      { STATCACHE_BATCH_EXPERIMENTS: '0' },
      "STATCACHE_BATCH_EXPERIMENTS must be a whole number from 1 to 10000; example: 50 (got '0')",
    ],
    [
      { STATCACHE_BATCH_EXPERIMENTS: '2.5' },
      "STATCACHE_BATCH_EXPERIMENTS must be a whole number from 1 to 10000; example: 50 (got '2.5')",
    ],
    [
      { STATCACHE_REBUILD_CONCURRENCY: '0' },
      "STATCACHE_REBUILD_CONCURRENCY must be a whole number from 1 to 32; example: 2 (got '0')",
    ],
    [
      { STATCACHE_BATCH_CHANGES: '-1' },
      "STATCACHE_BATCH_CHANGES must be a whole number from 1 to 1000000; example: 50000 (got '-1')",
    ],
    [
      { STATCACHE_KEEP_HOURLY_HOURS: '1d' },
      "STATCACHE_KEEP_HOURLY_HOURS must be a whole number from 1 to 87840; example: 24 (got '1d')",
    ],
    [
      { STATCACHE_KEEP_HOURLY_HOURS: '72', STATCACHE_KEEP_DAILY_DAYS: '2' },
      "STATCACHE_KEEP_DAILY_DAYS must keep daily buckets at least as long as STATCACHE_KEEP_HOURLY_HOURS keeps hourly ones (72 h); example: 3 (got '2')",
    ],
    [
      { STATCACHE_COMPRESS_CRON: 'daily at noon' },
      "STATCACHE_COMPRESS_CRON must be a cron pattern of 5 fields in UTC; example: 15 0 * * * (got 'daily at noon')",
    ],
    [
      { STATCACHE_VERIFY_CRON: '0 25 * * *' },
      "STATCACHE_VERIFY_CRON must be a cron pattern of 5 fields in UTC; example: 0 * * * * (got '0 25 * * *')",
    ],
    [
      { STATCACHE_QUEUE_PREFIX: 'stat cache' },
      "STATCACHE_QUEUE_PREFIX must be 1–100 letters, digits or . : _ - { }; example: {statcache} (got 'stat cache')",
    ],
    [
      { STATCACHE_REFRESH_EVERY_MS: '10' },
      "STATCACHE_REFRESH_EVERY_MS must be a whole number from 100 to 86400000; example: 60000 (got '10')",
    ],
    [
      { STATCACHE_FRESH_MAX_PENDING: 'lots' },
      "STATCACHE_FRESH_MAX_PENDING must be a whole number from 0 to 10000000; example: 5000 (got 'lots')",
    ],
    [
      { STATCACHE_DASHBOARD_TOKEN: 'has a space in it here' },
      "STATCACHE_DASHBOARD_TOKEN must be at least 16 characters without spaces; example: the output of `openssl rand -hex 32` (got '(hidden)')",
    ],
    [
      { STATCACHE_QUEUE_BOARD_WRITABLE: 'yes' },
      "STATCACHE_QUEUE_BOARD_WRITABLE must be true or false; example: false (got 'yes')",
    ],
    [
      { LOG_LEVEL: 'loud' },
      "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; example: info (got 'loud')",
    ],
  ])('rejects %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
