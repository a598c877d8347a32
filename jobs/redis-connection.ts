/** ioredis connections for the queue, with settings BullMQ needs and errors that say what to do. */
import { Redis } from 'ioredis';
import { RedisUnreachableError } from '../src/errors/error-classes.js';

/** host:port of a Redis URL, without credentials, for messages. */
export function describeRedis(redisUrl: string): string {
  const url = new URL(redisUrl);
  return `${url.hostname}:${url.port || '6379'}`;
}

/**
 * A connection for a long-running worker: retries every command until Redis is back
 * (`maxRetriesPerRequest: null`, as BullMQ requires for workers), reconnecting with capped backoff.
 */
export function createWorkerRedis(redisUrl: string): Redis {
  return new Redis(redisUrl, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
}

/** A connection for a one-shot command: fails fast with RedisUnreachableError instead of waiting. */
export async function connectCommandRedis(redisUrl: string, timeoutMs = 3_000): Promise<Redis> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  redis.on('error', (error) => {
    lastError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new RedisUnreachableError(describeRedis(redisUrl), reasonOf(lastError ?? error), { cause: error });
  }
}

/** Resolves once `redis` answers PING, or throws RedisUnreachableError after `timeoutMs`. */
export async function assertRedisReachable(redis: Redis, redisUrl: string, timeoutMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let lastError: unknown;
  const onError = (error: unknown) => {
    lastError = error;
  };
  redis.on('error', onError);
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new RedisUnreachableError(describeRedis(redisUrl), reasonOf(lastError ?? error), { cause: error });
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}

/** The most telling part of a connection error: its code (ECONNREFUSED, …) or its message. */
function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : String(error);
}
