/**
 * What a failed Redis connection says in a RedisUnreachableError's parentheses: the most telling part
 * of ioredis' error, for a single Redis or a cluster's nodes, with what to set when that is clear.
 */

/**
 * ioredis' cluster client says only "Connection is closed." for a refused port, a TLS failure or a
 * wrong password: then each node is asked directly (jobs/redis-cluster-connection.ts).
 */
export const NO_NODE_ANSWERED = 'no node answered: each refused or closed the connection';

/** The most telling part of a connection error: its code (ECONNREFUSED, …) or what it means. */
export function reasonOf(error: unknown): string {
  // ioredis Cluster: "Failed to refresh slots cache." holds the last node's own error, from a
  // connection that hides why it closed and a timer that says only "timeout".
  const nodeError = (error as { lastNodeError?: unknown } | undefined)?.lastNodeError;
  if (nodeError instanceof Error && nodeError.message === 'Connection is closed.') return NO_NODE_ANSWERED;
  if (nodeError instanceof Error && nodeError.message === 'timeout')
    return 'no node answered within STATCACHE_REDIS_CONNECT_TIMEOUT_MS';
  if (nodeError) return reasonOf(nodeError);
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // Node's TLS errors: the code alone (SELF_SIGNED_CERT_IN_CHAIN) does not say what to do.
  if (typeof code === 'string' && /CERT|SSL|TLS/.test(code))
    return `TLS: ${message} (${code}); a private CA's certificate goes in NODE_EXTRA_CA_CERTS=/path/ca.pem`;
  if (typeof code === 'string') return code;
  // ioredis' parser, when the port is another service's (an HTTP server answers 'H…').
  if (message.startsWith('Protocol error'))
    return `what answered is not Redis (${message.replace(/\.?\s*Please report this\.?$/, '')}); is that another service's port?`;
  if (/cluster support disabled/i.test(message))
    return `${message}: that is a single Redis, not a cluster node; for one, set REDIS_URL instead`;
  return message;
}

/** `reason`, and where credentials go when it is Redis refusing them. */
export function withCredentialsHint(reason: string, cluster: boolean): string {
  if (!/^(NOAUTH|WRONGPASS)\b/.test(reason)) return reason;
  return `${reason.replace(/\.$/, '')}; ${
    cluster
      ? 'set REDIS_CLUSTER_USERNAME and REDIS_CLUSTER_PASSWORD'
      : 'put the user and password in REDIS_URL (redis://user:password@host:6379)'
  }`;
}
