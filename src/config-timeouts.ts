/**
 * How long statcache waits on PostgreSQL and Redis: part of the one typed configuration
 * (src/config.ts), kept here with its defaults so createDb and the Redis connections share them.
 */
import { parseWhole } from './config-values.js';
import { HOUR_MS } from './time/durations.js';

export interface Timeouts {
  /**
   * How long opening a PostgreSQL connection may take, TCP and start-up included
   * (STATCACHE_PG_CONNECT_TIMEOUT_MS): a server that accepts but never answers fails within it.
   * @defaultValue 5000
   */
  pgConnectMs: number;
  /**
   * The longest one statement of the worker and the maintenance commands may run (PostgreSQL's
   * statement_timeout, STATCACHE_PG_STATEMENT_TIMEOUT_MS; 0 = none). migrate's and uninstall's
   * steps run without it (an index on a large table takes as long as it takes; their
   * lock_timeout keeps writers from waiting on them). @defaultValue 600000 (10 minutes)
   */
  pgStatementMs: number;
  /**
   * The same for reads: `serve`, `totals`, `sessions` (STATCACHE_READ_TIMEOUT_MS; 0 = none).
   * @defaultValue 60000
   */
  readStatementMs: number;
  /**
   * How long connecting to Redis may take until it answers PING (STATCACHE_REDIS_CONNECT_TIMEOUT_MS).
   * @defaultValue 5000
   */
  redisConnectMs: number;
  /**
   * How long a one-shot command (`enqueue`, `status`, the dashboard's queue reads) waits for one
   * Redis reply (STATCACHE_REDIS_COMMAND_TIMEOUT_MS). The worker's connections have none: they
   * block on purpose and retry until Redis is back. @defaultValue 5000
   */
  redisCommandMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = {
  pgConnectMs: 5_000,
  pgStatementMs: 600_000,
  readStatementMs: 60_000,
  redisConnectMs: 5_000,
  redisCommandMs: 5_000,
};

/** The longest wait any of them may be set to: a day. */
const MAX_TIMEOUT_MS = 24 * HOUR_MS;

export function parseTimeouts(env: Record<string, string | undefined>): Timeouts {
  const d = DEFAULT_TIMEOUTS;
  const wait = (variable: string, fallback: number, min: number) =>
    parseWhole(variable, env[variable], fallback, MAX_TIMEOUT_MS, min);
  return {
    pgConnectMs: wait('STATCACHE_PG_CONNECT_TIMEOUT_MS', d.pgConnectMs, 100),
    pgStatementMs: wait('STATCACHE_PG_STATEMENT_TIMEOUT_MS', d.pgStatementMs, 0),
    readStatementMs: wait('STATCACHE_READ_TIMEOUT_MS', d.readStatementMs, 0),
    redisConnectMs: wait('STATCACHE_REDIS_CONNECT_TIMEOUT_MS', d.redisConnectMs, 100),
    redisCommandMs: wait('STATCACHE_REDIS_COMMAND_TIMEOUT_MS', d.redisCommandMs, 100),
  };
}
