/** ioredis connections for the queue, with settings BullMQ needs and errors that say what to do. */
import { Redis } from 'ioredis';
import { DEFAULT_TIMEOUTS, type Timeouts } from '../src/config-timeouts.js';
import { ConfigError, RedisUnreachableError } from '../src/errors/error-classes.js';

type RedisTimeouts = Pick<Timeouts, 'redisConnectMs' | 'redisCommandMs'>;

/** host:port of a Redis URL, without credentials, for messages. */
export function describeRedis(redisUrl: string): string {
  const url = new URL(redisUrl);
  return `${url.hostname}:${url.port || '6379'}`;
}

/**
 * A connection for a long-running worker: retries every command until Redis is back
 * (`maxRetriesPerRequest: null`, as BullMQ requires for workers), reconnecting with capped backoff.
 * No command timeout: BullMQ blocks on it on purpose.
 */
export function createWorkerRedis(redisUrl: string, timeouts: RedisTimeouts = DEFAULT_TIMEOUTS): Redis {
  return new Redis(redisUrl, {
    maxRetriesPerRequest: null,
    connectTimeout: timeouts.redisConnectMs,
    retryStrategy: reconnectDelay,
  });
}

/** Reconnect attempts back off by 200 ms each, at most 5 s apart, for as long as it takes. */
export const reconnectDelay = (times: number): number => Math.min(times * 200, 5_000);

/**
 * A connection for a one-shot command: fails fast with RedisUnreachableError instead of waiting
 * (connected and answering PING within `redisConnectMs`, each later reply within `redisCommandMs`),
 * or with ConfigError when REDIS_URL names a database the server does not have.
 */
export async function connectCommandRedis(
  redisUrl: string,
  timeouts: RedisTimeouts = DEFAULT_TIMEOUTS,
  /** Reconnect after a lost connection (a long-running `serve`); a one-shot command does not. */
  options: { reconnect?: boolean } = {},
): Promise<Redis> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: timeouts.redisConnectMs,
    commandTimeout: timeouts.redisCommandMs,
    retryStrategy: options.reconnect ? reconnectDelay : () => null,
    // disconnect() half-closes the socket and waits this long for the server to close its side; one
    // that never answers never does, and the command would linger 2 s (ioredis' default) after failing.
    disconnectTimeout: 200,
  });
  try {
    await assertRedisReachable(redis, redisUrl, timeouts.redisConnectMs, () => redis.connect());
    return redis;
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}

/**
 * Resolves once `redis` answers PING (after `connect`, if given) and has selected the database
 * REDIS_URL names; else throws RedisUnreachableError after at most `timeoutMs` (a server that
 * accepts but never answers included), or ConfigError for a database the server does not have.
 */
export async function assertRedisReachable(
  redis: Redis,
  redisUrl: string,
  timeoutMs: number = DEFAULT_TIMEOUTS.redisConnectMs,
  connect: () => Promise<void> = async () => {},
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let lastError: unknown;
  const onError = (error: unknown) => {
    lastError = error;
  };
  redis.on('error', onError);
  try {
    await Promise.race([
      (async () => {
        await connect();
        await redis.ping();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`no answer within ${timeoutMs} ms; STATCACHE_REDIS_CONNECT_TIMEOUT_MS sets the wait`),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    throw new RedisUnreachableError(describeRedis(redisUrl), reasonOf(lastError ?? error), { cause: error });
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
  await assertDatabase(redis, redisUrl);
}

/**
 * ioredis selects REDIS_URL's database on connecting but, when the server has no such database,
 * only emits an error and goes on in database 0: select it again here, where a failure stops.
 */
async function assertDatabase(redis: Redis, redisUrl: string): Promise<void> {
  const db = redis.options.db ?? 0;
  if (db === 0) return;
  try {
    await redis.select(db);
  } catch (error) {
    const url = new URL(redisUrl);
    url.password = url.password ? '***' : '';
    throw new ConfigError(
      'REDIS_URL',
      url.toString(),
      `names database ${db}, which the Redis there does not have (${error instanceof Error ? error.message : String(error)}); use one below its \`databases\` setting (16 unless changed), e.g. redis://${describeRedis(redisUrl)}/0`,
    );
  }
}

/** The most telling part of a connection error: its code (ECONNREFUSED, …) or what it means. */
function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  const message = error instanceof Error ? error.message : String(error);
  // ioredis' parser, when the port is another service's (an HTTP server answers 'H…').
  if (message.startsWith('Protocol error'))
    return `what answered is not Redis (${message.replace(/\.?\s*Please report this\.?$/, '')}); is that another service's port?`;
  return message;
}
