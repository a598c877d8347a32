/**
 * One error class per failure kind. Each message says what happened and what to do; context is kept
 * as readonly fields so callers (the CLI, later the worker) decide how to report it.
 */

/** Base class: every error statcache raises on purpose. */
export class StatcacheError extends Error {
  override name = 'StatcacheError';
}

/** An environment variable or option has a value statcache cannot use. Retrying will not help. */
export class ConfigError extends StatcacheError {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${variable} ${expected} (got '${value}')`);
  }
}

/** A source profile (STATCACHE_SOURCE, built in or a JSON file) that statcache cannot use. */
export class SourceProfileError extends StatcacheError {
  override name = 'SourceProfileError';
  constructor(
    /** The profile: a built-in one's name, or the file's path. */
    readonly origin: string,
    /** The key at fault, e.g. `sessions.createdAt` (empty for the file as a whole). */
    readonly key: string,
    problem: string,
  ) {
    super(`source profile ${origin}: ${key ? `${key} ` : ''}${problem}`);
  }
}

/** The database lacks tables or columns the source profile names (statcache cannot run on it). */
export class SourceMismatchError extends StatcacheError {
  override name = 'SourceMismatchError';
  constructor(
    readonly profile: string,
    readonly problems: string,
  ) {
    super(
      `the database does not match source profile ${profile}: ${problems}; run \`statcache source\` for details, set STATCACHE_SOURCE to your platform's profile, or create statcache's demo tables with \`statcache migrate --create-source-tables\``,
    );
  }
}

/** A caller passed arguments a function or command cannot accept (bad id, date, sort key, limit). */
export class InvalidInputError extends StatcacheError {
  override name = 'InvalidInputError';
  constructor(
    message: string,
    /** The option or parameter at fault, when one is (HTTP answers name it). */
    readonly parameter?: string,
  ) {
    super(message);
  }
}

const TABLES = { experiment: 'experiments', session: 'experiment_sessions', team: 'teams' } as const;

/** Ids that were asked for do not exist in the chat tables. */
export class NotFoundError extends StatcacheError {
  override name = 'NotFoundError';
  /** The option or parameter that named the ids, when one did (HTTP answers name it). */
  readonly parameter?: string;
  constructor(
    readonly entity: 'experiment' | 'session' | 'team',
    readonly ids: readonly number[],
    options: { parameter?: string; message?: string } = {},
  ) {
    super(
      options.message ??
        `${entity} ${ids.length === 1 ? 'id' : 'ids'} ${ids.join(', ')} not found in ${TABLES[entity]}; check the ids`,
    );
    this.parameter = options.parameter;
  }
}

/** PostgreSQL could not be reached or refused the connection. */
export class DatabaseUnreachableError extends StatcacheError {
  override name = 'DatabaseUnreachableError';
  /** The variable whose URL it was: DATABASE_URL, or DATABASE_READ_URL for the read replica. */
  readonly variable: string;
  constructor(
    readonly target: string,
    reason: string,
    options: { cause?: unknown; variable?: string } = {},
  ) {
    const variable = options.variable ?? 'DATABASE_URL';
    super(
      `cannot connect to PostgreSQL at ${target} (${reason}); check ${variable} and that the server is running`,
      { cause: options.cause },
    );
    this.variable = variable;
  }
}

/** The database lacks statcache's tables or some of its migrations. */
export class SchemaNotMigratedError extends StatcacheError {
  override name = 'SchemaNotMigratedError';
  constructor(
    readonly applied: number,
    readonly expected: number,
    /** Batched upgrades of statcache's tables that have not finished (install/upgrades.ts). */
    readonly pendingUpgrades: readonly string[] = [],
  ) {
    super(
      applied < expected
        ? `the database has ${applied} of statcache's ${expected} migrations applied; run \`statcache migrate\` first`
        : `statcache's upgrade ${pendingUpgrades.join(', ')} has not finished (its rows are updated in batches); run \`statcache migrate\` to finish it`,
    );
  }
}

/** Redis could not be reached (the queue, the worker, `enqueue`, the queue part of `status`). */
export class RedisUnreachableError extends StatcacheError {
  override name = 'RedisUnreachableError';
  /** Whether it was a Redis Cluster (REDIS_CLUSTER_NODES) rather than REDIS_URL's single Redis. */
  readonly cluster: boolean;
  constructor(
    /** host:port, or a cluster's nodes as host:port, host:port. */
    readonly target: string,
    reason: string,
    options: { cause?: unknown; cluster?: boolean } = {},
  ) {
    super(
      options.cluster
        ? `cannot connect to Redis Cluster at ${target} (${reason}); check REDIS_CLUSTER_NODES and that the nodes are running`
        : `cannot connect to Redis at ${target} (${reason}); check REDIS_URL and that the server is running`,
      { cause: options.cause },
    );
    this.cluster = options.cluster ?? false;
  }
}

/** PostgreSQL cancelled a statement that ran past statcache's statement_timeout. */
export class StatementTimeoutError extends StatcacheError {
  override name = 'StatementTimeoutError';
  constructor(
    readonly timeoutMs: number,
    /** The variable that set the limit (STATCACHE_READ_TIMEOUT_MS or STATCACHE_PG_STATEMENT_TIMEOUT_MS). */
    readonly variable: string,
    options?: { cause?: unknown },
  ) {
    super(
      `a statement ran longer than ${timeoutMs} ms and PostgreSQL cancelled it; ${variable} sets the limit (0 for none)`,
      options,
    );
  }
}

/** A session holding a lock on a table kept `migrate` or `uninstall` from changing it, every attempt. */
export class LockTimeoutError extends StatcacheError {
  override name = 'LockTimeoutError';
  constructor(
    /** The table, as PostgreSQL names it (schema-qualified). */
    readonly table: string,
    /** What was being done, e.g. "capture triggers on public.chat_chatmessage". */
    readonly step: string,
    /** Who held a lock on the table when the last attempt gave up, one line each. */
    readonly holders: string[],
    attempts: number,
    timeoutMs: number,
  ) {
    super(
      `could not lock ${table} for ${step} within ${timeoutMs} ms, ${attempts} attempts: ${
        holders.length > 0 ? `held by ${holders.join('; ')}` : 'no session holds it any more'
      }; end that transaction or wait for it, then run the command again (nothing was left half done)`,
    );
  }
}

/** A server could not listen (the port taken, no permission): exit 1, naming the address. */
export class ListenError extends StatcacheError {
  override name = 'ListenError';
}
