/**
 * ioredis connections for the queue, with settings BullMQ needs and errors that say what to do: a
 * single Redis at REDIS_URL, or Redis Cluster at REDIS_CLUSTER_NODES (jobs/redis-cluster-connection.ts).
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisClusterConfig } from '../src/config-redis.js';
import type { Timeouts } from '../src/config-timeouts.js';
import { withoutPassword } from '../src/config-values.js';
import { ConfigError, RedisUnreachableError } from '../src/errors/error-classes.js';
import {
  assertClusterOk,
  createCommandCluster,
  createWorkerCluster,
  describeCluster,
  duplicateClusterForBlocking,
  whyNodesRefuse,
} from './redis-cluster-connection.js';
import { NO_NODE_ANSWERED, reasonOf, withCredentialsHint } from './redis-error-reason.js';

type RedisTimeouts = Pick<Timeouts, 'redisConnectMs' | 'redisCommandMs'>;

/** A connection the queue runs on: one Redis, or a Redis Cluster. */
export type QueueRedis = Redis | Cluster;

/** Where the queue's Redis is, and how long to wait on it (a StatcacheConfig is one). */
export interface RedisSettings {
  redisUrl: string;
  /** When set, Redis Cluster at these nodes, and `redisUrl` is not used. */
  redisCluster: RedisClusterConfig | null;
  timeouts: RedisTimeouts;
}

/** Where the queue's Redis is, without credentials, for messages: host:port, or the cluster's nodes. */
export function describeRedis(settings: RedisSettings): string {
  return settings.redisCluster ? describeCluster(settings.redisCluster) : hostPort(settings.redisUrl);
}

/** host:port of a Redis URL, without credentials. */
function hostPort(redisUrl: string): string {
  const url = new URL(redisUrl);
  return `${url.hostname}:${url.port || '6379'}`;
}

/**
 * A connection for a long-running worker: retries every command until Redis is back
 * (`maxRetriesPerRequest: null`, as BullMQ requires for workers), reconnecting with capped backoff;
 * on a cluster, commands also wait out a failover. No command timeout: BullMQ blocks on it on purpose.
 */
export function createWorkerRedis(settings: RedisSettings): QueueRedis {
  const { timeouts } = settings;
  if (settings.redisCluster) return createWorkerCluster(settings.redisCluster, timeouts, reconnectDelay);
  return new Redis(settings.redisUrl, {
    maxRetriesPerRequest: null,
    connectTimeout: timeouts.redisConnectMs,
    retryStrategy: reconnectDelay,
  });
}

/** Reconnect attempts back off by 200 ms each, at most 5 s apart, for as long as it takes. */
export const reconnectDelay = (times: number): number => Math.min(times * 200, 5_000);

/**
 * A connection for a one-shot command: fails fast with RedisUnreachableError instead of waiting
 * (connected and answering within `redisConnectMs`, each later reply within `redisCommandMs`), or
 * with ConfigError when REDIS_URL names a database the server does not have or a cluster's node.
 */
export async function connectCommandRedis(
  settings: RedisSettings,
  /** Reconnect after a lost connection (a long-running `serve`); a one-shot command does not. */
  options: { reconnect?: boolean } = {},
): Promise<QueueRedis> {
  const { timeouts } = settings;
  const retry = options.reconnect ? reconnectDelay : null;
  const redis: QueueRedis = settings.redisCluster
    ? createCommandCluster(settings.redisCluster, timeouts, retry)
    : new Redis(settings.redisUrl, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        connectTimeout: timeouts.redisConnectMs,
        commandTimeout: timeouts.redisCommandMs,
        retryStrategy: retry ?? (() => null),
        // disconnect() half-closes the socket and waits this long for the server to close its side; one
        // that never answers never does, and the command would linger 2 s (ioredis' default) after failing.
        disconnectTimeout: 200,
      });
  try {
    await assertRedisReachable(redis, settings, timeouts.redisConnectMs, () => redis.connect());
    return redis;
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}

/**
 * A copy of `redis` for a connection that blocks (QueueEvents): no command timeout, every command
 * retried (`maxRetriesPerRequest: null`), reconnecting for as long as it takes.
 */
export function duplicateForBlocking(redis: QueueRedis): QueueRedis {
  if (redis instanceof Cluster) return duplicateClusterForBlocking(redis, reconnectDelay);
  return redis.duplicate({
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
    retryStrategy: reconnectDelay,
  });
}

/**
 * Resolves once `redis` answers (after `connect`, if given): a single Redis PING, in the database
 * REDIS_URL names; a cluster with every slot served. Else throws RedisUnreachableError after at most
 * `timeoutMs` (a server that accepts but never answers included), or ConfigError for a database the
 * server does not have or a REDIS_URL that is a cluster's node.
 */
export async function assertRedisReachable(
  redis: QueueRedis,
  settings: RedisSettings,
  timeoutMs: number = settings.timeouts.redisConnectMs,
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
        if (redis instanceof Cluster) await assertClusterOk(redis);
        else await redis.ping();
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
    let reason = reasonOf(lastError ?? error);
    if (reason === NO_NODE_ANSWERED && settings.redisCluster)
      reason = (await whyNodesRefuse(settings.redisCluster, settings.timeouts)) ?? reason;
    const cluster = redis instanceof Cluster;
    throw new RedisUnreachableError(describeRedis(settings), withCredentialsHint(reason, cluster), {
      cause: error,
      cluster,
    });
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
  if (redis instanceof Redis) {
    await assertDatabase(redis, settings.redisUrl);
    await assertNotClusterNode(redis, settings.redisUrl);
  }
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
      `names database ${db}, which the Redis there does not have (${error instanceof Error ? error.message : String(error)}); use one below its \`databases\` setting (16 unless changed), e.g. redis://${hostPort(redisUrl)}/0`,
    );
  }
}

/**
 * A single-node client on a cluster's node reaches only the slots that node owns (every other key is
 * MOVED), and loses the queue on a failover: refuse it, naming the variable to use instead.
 */
async function assertNotClusterNode(redis: Redis, redisUrl: string): Promise<void> {
  const info = await redis.info('cluster');
  if (/^cluster_enabled:1/m.test(info))
    throw new ConfigError(
      'REDIS_URL',
      withoutPassword(redisUrl),
      'points at a Redis Cluster node, where a single-node client reaches only the slots that node owns; unset it and set REDIS_CLUSTER_NODES to the cluster nodes instead (example: 10.0.0.1:6379,10.0.0.2:6379), with STATCACHE_QUEUE_PREFIX={statcache}',
    );
}
