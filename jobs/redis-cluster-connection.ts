/**
 * ioredis Cluster clients for the queue on Redis Cluster (REDIS_CLUSTER_NODES): the worker's, which
 * rides out a failover and reconnects forever, and the one-shot commands', which fail fast. Which
 * one a caller gets, and the errors, are decided in jobs/redis-connection.ts.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisClusterConfig } from '../src/config-redis.js';
import type { Timeouts } from '../src/config-timeouts.js';
import { reasonOf } from './redis-error-reason.js';

type RedisTimeouts = Pick<Timeouts, 'redisConnectMs' | 'redisCommandMs'>;
type NodeOptions = NonNullable<ClusterOptions['redisOptions']>;

/**
 * While a master is down, a command sent to it fails with "Connection is closed", and once the
 * cluster has marked it failed every node answers CLUSTERDOWN until its replica takes over: ioredis
 * retries such a command every FAILOVER_RETRY_MS, at most MAX_REDIRECTIONS times, refreshing who
 * owns which slot between tries. Together they ride out a failover of up to 30 s (Redis' default
 * cluster-node-timeout is 15 s, plus the election) instead of failing BullMQ's commands after
 * ioredis' default 1.6 s.
 */
const FAILOVER_RETRY_MS = 250;
const MAX_REDIRECTIONS = 120;
const RIDE_OUT_FAILOVER = {
  retryDelayOnFailover: FAILOVER_RETRY_MS,
  retryDelayOnClusterDown: FAILOVER_RETRY_MS,
  retryDelayOnTryAgain: FAILOVER_RETRY_MS,
  maxRedirections: MAX_REDIRECTIONS,
} satisfies ClusterOptions;

/** The nodes as host:port, host:port, for messages and logs (an IPv6 host in brackets). */
export function describeCluster(cluster: RedisClusterConfig): string {
  return cluster.nodes
    .map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`))
    .join(', ');
}

/** What every connection to a node carries: credentials and TLS. */
function nodeOptions(cluster: RedisClusterConfig): NodeOptions {
  const options: NodeOptions = {};
  if (cluster.username) options.username = cluster.username;
  if (cluster.password) options.password = cluster.password;
  if (cluster.tls) options.tls = {};
  return options;
}

/**
 * Options every cluster client shares. Asking a node who owns which slot (connecting to it first)
 * may take as long as connecting to Redis may: STATCACHE_REDIS_CONNECT_TIMEOUT_MS, not ioredis' 1 s.
 * With TLS, node hostnames are not resolved to addresses (ioredis would otherwise dial, and verify
 * the certificate against, the address).
 */
function baseOptions(cluster: RedisClusterConfig, timeouts: RedisTimeouts): ClusterOptions {
  return {
    slotsRefreshTimeout: timeouts.redisConnectMs,
    ...(cluster.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
}

/**
 * The worker's client: BullMQ requires `maxRetriesPerRequest: null` on its nodes' connections (its
 * blocking connection, a duplicate of this one, checks it), commands wait while the cluster is down
 * or failing over, and a lost cluster is reconnected to for as long as it takes.
 */
export function createWorkerCluster(
  cluster: RedisClusterConfig,
  timeouts: RedisTimeouts,
  reconnectDelay: (times: number) => number,
): Cluster {
  return new Cluster(cluster.nodes, {
    ...baseOptions(cluster, timeouts),
    ...RIDE_OUT_FAILOVER,
    clusterRetryStrategy: reconnectDelay,
    redisOptions: {
      ...nodeOptions(cluster),
      maxRetriesPerRequest: null,
      connectTimeout: timeouts.redisConnectMs,
    },
  });
}

/**
 * A one-shot command's client, not connected yet: each reply within `redisCommandMs`; no offline
 * queue, so while the cluster is down (or reconnecting, with `reconnect`) a command fails at once
 * instead of waiting without a timeout (ioredis times commands only once a node has them). The
 * cluster's state is checked by the caller, with a reason, rather than by ioredis' ready check.
 */
export function createCommandCluster(
  cluster: RedisClusterConfig,
  timeouts: RedisTimeouts,
  reconnectDelay: ((times: number) => number) | null,
): Cluster {
  return new Cluster(cluster.nodes, {
    ...baseOptions(cluster, timeouts),
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    clusterRetryStrategy: reconnectDelay ?? (() => null),
    redisOptions: {
      ...nodeOptions(cluster),
      maxRetriesPerRequest: 1,
      connectTimeout: timeouts.redisConnectMs,
      commandTimeout: timeouts.redisCommandMs,
      disconnectTimeout: 200,
    },
  });
}

/**
 * A copy of `cluster` for a connection that blocks (QueueEvents' XREAD): no command timeout, commands
 * wait and retry through a failover, and it reconnects for as long as it takes.
 */
export function duplicateClusterForBlocking(
  cluster: Cluster,
  reconnectDelay: (times: number) => number,
): Cluster {
  const { commandTimeout: _none, ...node }: RedisOptions = cluster.options.redisOptions ?? {};
  return cluster.duplicate([], {
    ...RIDE_OUT_FAILOVER,
    enableOfflineQueue: true,
    enableReadyCheck: true,
    clusterRetryStrategy: reconnectDelay,
    redisOptions: { ...node, maxRetriesPerRequest: null },
  });
}

/**
 * Resolves once the cluster says every slot is served (`cluster_state:ok`) and every master answers
 * PING (which also opens the connections the queue's commands then find ready); else throws why
 * not, for a RedisUnreachableError to carry.
 */
export async function assertClusterOk(cluster: Cluster): Promise<void> {
  const info = String(await cluster.cluster('INFO'));
  const state = /^cluster_state:(\w+)/m.exec(info)?.[1] ?? 'unknown';
  if (state !== 'ok')
    throw new Error(
      `the cluster reports cluster_state:${state}, so some slots have no master answering; wait for the failover to finish, or see \`redis-cli --cluster check\``,
    );
  await Promise.all(cluster.nodes('master').map((node) => node.ping()));
}

/**
 * Why the nodes would not talk to us, asked of each directly (one connection and a PING apiece):
 * ioredis' cluster client hides it behind "Connection is closed." (see NO_NODE_ANSWERED). Null when
 * every node answers.
 */
export async function whyNodesRefuse(
  cluster: RedisClusterConfig,
  timeouts: RedisTimeouts,
): Promise<string | null> {
  const reasons = await Promise.all(
    cluster.nodes.map(async ({ host, port }) => {
      const redis = new Redis({
        ...nodeOptions(cluster),
        host,
        port,
        lazyConnect: true,
        enableReadyCheck: false,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        connectTimeout: timeouts.redisConnectMs,
        commandTimeout: timeouts.redisCommandMs,
        // As for a one-shot command's connection: no 2 s linger after failing (jobs/redis-connection.ts).
        disconnectTimeout: 200,
      });
      let lastError: unknown;
      redis.on('error', (error: unknown) => {
        lastError = error;
      });
      try {
        await redis.connect();
        await redis.ping();
        return null;
      } catch (error) {
        const reason = reasonOf(lastError ?? error);
        // A node that speaks TLS closes the connection of a client that does not.
        return (reason === 'Connection is closed.' || reason === 'ECONNRESET') && !cluster.tls
          ? `${reason.replace(/\.$/, '')}: the node closed the connection; if it speaks TLS, set REDIS_CLUSTER_TLS=true`
          : reason;
      } finally {
        redis.disconnect();
      }
    }),
  );
  const distinct = [...new Set(reasons.filter((r): r is string => r !== null))];
  return distinct.length > 0 ? distinct.join('; ') : null;
}
