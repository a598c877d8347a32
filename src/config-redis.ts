/**
 * Redis Cluster settings, part of the one typed configuration (src/config.ts): REDIS_CLUSTER_NODES
 * with its credentials and TLS, and the check that the queue prefix keeps all of the queue's keys in
 * one slot. REDIS_URL (a single Redis) is read in src/config.ts; the two are exclusive.
 */
import { parseBoolean } from './config-values.js';
import { ConfigError } from './errors/error-classes.js';

/** One node to connect to first; the client learns the rest of the cluster from it. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

export interface RedisClusterConfig {
  /**
   * REDIS_CLUSTER_NODES: some or all of the cluster's nodes, `host:port,host:port,…` (an IPv6 host in
   * brackets, `[::1]:7000`); the client asks them for the others and for who owns which slot.
   */
  nodes: RedisNodeAddress[];
  /** REDIS_CLUSTER_USERNAME: the ACL user every node is authenticated as. @defaultValue null (`default`) */
  username: string | null;
  /** REDIS_CLUSTER_PASSWORD: that user's password (or `requirepass`). @defaultValue null */
  password: string | null;
  /**
   * REDIS_CLUSTER_TLS: TLS to every node, verified against the system's CAs plus NODE_EXTRA_CA_CERTS;
   * node hostnames are kept (not resolved to addresses) so certificates for them verify.
   * @defaultValue false
   */
  tls: boolean;
}

/** A good REDIS_CLUSTER_NODES, for messages. */
export const REDIS_CLUSTER_NODES_EXAMPLE = '10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379';
/** The queue prefix messages suggest on Redis Cluster. */
const HASH_TAG_EXAMPLE = '{statcache}';
const MAX_PORT = 65_535;

type Env = Record<string, string | undefined>;

/**
 * The Redis Cluster settings in `env`, or null when REDIS_CLUSTER_NODES is unset (a single Redis at
 * REDIS_URL). Every REDIS_CLUSTER_* variable is read whether or not it applies, so that one set
 * without REDIS_CLUSTER_NODES, or with REDIS_URL as well, is refused instead of ignored.
 * `queuePrefix` must then carry a hash tag. Throws ConfigError.
 */
export function parseRedisCluster(env: Env, queuePrefix: string): RedisClusterConfig | null {
  const rawNodes = env.REDIS_CLUSTER_NODES?.trim() ?? '';
  const username = env.REDIS_CLUSTER_USERNAME?.trim() || null;
  // Not trimmed: a password is taken as written, and never shown.
  const password = env.REDIS_CLUSTER_PASSWORD || null;
  const tls = parseBoolean('REDIS_CLUSTER_TLS', env.REDIS_CLUSTER_TLS);
  const redisUrl = env.REDIS_URL?.trim() ?? '';
  if (rawNodes === '') {
    const stray: [string, string, string][] = [
      [
        'REDIS_CLUSTER_USERNAME',
        username ?? '',
        'credentials in REDIS_URL (redis://user:password@host:6379)',
      ],
      [
        'REDIS_CLUSTER_PASSWORD',
        password ? '(hidden)' : '',
        'credentials in REDIS_URL (redis://user:password@host:6379)',
      ],
      ['REDIS_CLUSTER_TLS', tls ? (env.REDIS_CLUSTER_TLS?.trim() ?? '') : '', 'rediss:// in REDIS_URL'],
    ];
    const [variable, shown, single] = stray.find(([, shown]) => shown !== '') ?? [];
    if (variable)
      throw new ConfigError(
        variable,
        shown as string,
        `only applies with REDIS_CLUSTER_NODES: set that too (example: ${REDIS_CLUSTER_NODES_EXAMPLE}), or unset this; for a single Redis put ${single}`,
      );
    return null;
  }
  if (redisUrl !== '')
    throw new ConfigError(
      'REDIS_CLUSTER_NODES',
      rawNodes,
      'and REDIS_URL are both set: set REDIS_CLUSTER_NODES for a Redis Cluster or REDIS_URL for a single Redis, not both',
    );
  const nodes = parseNodes(rawNodes);
  if (hashTagOf(queuePrefix) === null)
    throw new ConfigError(
      'STATCACHE_QUEUE_PREFIX',
      queuePrefix,
      `must contain a hash tag like ${HASH_TAG_EXAMPLE} on Redis Cluster (REDIS_CLUSTER_NODES is set), so that all of the queue's keys live in one slot`,
    );
  return { nodes, username, password, tls };
}

/**
 * The hash tag Redis Cluster hashes a key starting with `prefix` by, or null when it hashes the whole
 * key: the text between the first `{` and the first `}` after it, if that text is not empty.
 */
export function hashTagOf(prefix: string): string | null {
  const open = prefix.indexOf('{');
  if (open === -1) return null;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix.slice(open + 1, close) : null;
}

/** `host:port,[v6]:port,…`: at least one, each port 1–65535, duplicates dropped. */
function parseNodes(value: string): RedisNodeAddress[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const nodes = new Map<string, RedisNodeAddress>();
  for (const entry of entries) {
    const node = parseNode(entry);
    if (!node) {
      const shown = entry.includes('@') ? entry.replace(/^.*@/, '***@') : entry;
      const hint = entry.includes('@')
        ? 'credentials go in REDIS_CLUSTER_USERNAME and REDIS_CLUSTER_PASSWORD'
        : entry.includes('://')
          ? 'write host:port without a scheme (REDIS_CLUSTER_TLS=true for TLS)'
          : `the port must be a whole number from 1 to ${MAX_PORT}`;
      throw new ConfigError(
        'REDIS_CLUSTER_NODES',
        value.includes('@') ? '(hidden)' : value,
        `must be comma-separated host:port pairs, but '${shown}' is not one (${hint}); example: ${REDIS_CLUSTER_NODES_EXAMPLE}`,
      );
    }
    nodes.set(`${node.host}:${node.port}`, node);
  }
  if (nodes.size === 0)
    throw new ConfigError(
      'REDIS_CLUSTER_NODES',
      value,
      `must list at least one host:port; example: ${REDIS_CLUSTER_NODES_EXAMPLE}`,
    );
  return [...nodes.values()];
}

/** `host:port` (a hostname or IPv4 address) or `[IPv6]:port`, else null. */
function parseNode(entry: string): RedisNodeAddress | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/.exec(entry);
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > MAX_PORT) return null;
  return { host: (match[1] ?? match[2]) as string, port };
}
