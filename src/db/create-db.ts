/** createDb: a drizzle database over a node-postgres pool, with close(). */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { DEFAULT_TIMEOUTS } from '../config-timeouts.js';
import { disablePreparedReads } from './read-rows.js';
import { translatePoolErrors } from './translate-pool-errors.js';

/** Connections per process: refresh uses one at a time; reads in a server may use more. */
export const DEFAULT_POOL_SIZE = 10;

export interface CreateDbOptions {
  /** @defaultValue {@link DEFAULT_POOL_SIZE} */
  max?: number;
  /** Name shown in pg_stat_activity. @defaultValue 'statcache' */
  applicationName?: string;
  /**
   * Whether the read helpers run as named prepared statements (planned once per connection; see
   * read-rows.ts). false behind a pooler that cannot keep them (PgBouncer in transaction mode
   * before 1.21). @defaultValue true
   */
  preparedReads?: boolean;
  /**
   * PostgreSQL's JIT for this pool's statements. Off by default: statcache's statements are short,
   * index-driven, and their cost estimates through CTEs can cross jit_above_cost, where compiling
   * costs more than running (measured: 307 ms of JIT on a 250 ms fresh read of 10,000 pending
   * changes; no gain on the full rebuild). @defaultValue false
   */
  jit?: boolean;
  /**
   * Called when an idle connection of the pool fails (the server restarted, the network dropped):
   * the next statement reconnects. @defaultValue one line on stderr
   */
  onIdleError?: (error: Error) => void;
  /**
   * How long opening one connection may take (TCP and PostgreSQL's start-up); a server that
   * accepts but never answers fails the statement waiting for it. A statement waiting for a free
   * connection of a busy pool waits as long as it takes (it is queued, not failed).
   * @defaultValue 5000 ({@link DEFAULT_TIMEOUTS})
   */
  connectTimeoutMs?: number;
  /**
   * PostgreSQL's statement_timeout for this pool's connections, as a start-up parameter; 0 for
   * none. @defaultValue 600000 ({@link DEFAULT_TIMEOUTS})
   */
  statementTimeoutMs?: number;
  /**
   * The environment variable `databaseUrl` came from: when given, this pool's statements that cannot
   * reach the server fail with a DatabaseUnreachableError naming it and host:port (for the read
   * replica's pool, DATABASE_READ_URL). @defaultValue none: driver errors as pg throws them
   */
  urlVariable?: string;
}

export type NodePgStatDb = NodePgDatabase & { $client: pg.Pool; close(): Promise<void> };

/**
 * Opens a pool on `databaseUrl` and returns a drizzle database over it. Nothing connects until the
 * first query. Call `close()` when done.
 */
export function createDb(databaseUrl: string, options: CreateDbOptions = {}): NodePgStatDb {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_TIMEOUTS.pgConnectMs;
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_TIMEOUTS.pgStatementMs;
  // Start-up parameters, so no statement is spent on them; kept beside any the URL sets.
  const startup = [
    urlOptions(databaseUrl),
    options.jit === true ? '' : '-c jit=off',
    statementTimeoutMs > 0 ? `-c statement_timeout=${Math.floor(statementTimeoutMs)}` : '',
  ].filter(Boolean);
  const pool = new pg.Pool({
    // Without its `options`: pg lets the URL's replace the config's, which would drop statcache's
    // (jit, statement_timeout); they are merged into `startup` above instead.
    connectionString: withoutUrlOptions(databaseUrl),
    max: options.max ?? DEFAULT_POOL_SIZE,
    application_name: options.applicationName ?? 'statcache',
    ...(startup.length > 0 ? { options: startup.join(' ') } : {}),
    // A dead peer on an open connection is noticed instead of waited on forever.
    keepAlive: true,
    // The connect timeout on each client, not on the pool: the pool's own connectionTimeoutMillis
    // would also fail statements merely queued for a busy pool's next free connection.
    Client: clientWithConnectTimeout(connectTimeoutMs),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on(
    'error',
    options.onIdleError ??
      ((error) =>
        process.stderr.write(
          `statcache: an idle database connection failed (${error.message}); the next statement reconnects\n`,
        )),
  );
  if (options.preparedReads === false) disablePreparedReads(pool);
  if (options.urlVariable)
    translatePoolErrors(pool, { url: databaseUrl, variable: options.urlVariable, connectTimeoutMs });

  const db = drizzle({ client: pool });
  return Object.assign(db, { close: () => pool.end() });
}

/** pg's Client, giving up on a connection that is not ready within `timeoutMs`. */
function clientWithConnectTimeout(timeoutMs: number): typeof pg.Client {
  return class TimedClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super({
        ...(typeof config === 'string' ? { connectionString: config } : config),
        connectionTimeoutMillis: timeoutMs,
      });
    }
  };
}

/** `databaseUrl` without its `options` query parameter (unchanged when it has none). */
function withoutUrlOptions(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (!url.searchParams.has('options')) return databaseUrl;
    url.searchParams.delete('options');
    return url.toString();
  } catch {
    return databaseUrl;
  }
}

/** The `options` startup parameter the URL sets, if any (`?options=-c%20search_path%3Dx`). */
function urlOptions(databaseUrl: string): string {
  try {
    return new URL(databaseUrl).searchParams.get('options') ?? '';
  } catch {
    return '';
  }
}
