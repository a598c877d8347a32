/**
 * Wraps every command: loads config, opens the database, checks the schema, runs, and turns any
 * error into one line on stderr (and an {"error"} document with --json) with the right exit code.
 */
import { sql } from 'drizzle-orm';
import { loadConfig, type StatcacheConfig } from '../src/config.js';
import { createDb } from '../src/db/create-db.js';
import { bigintArray } from '../src/db/params.js';
import { type Executor, queryRows, type StatDb, toNumber } from '../src/db/types.js';
import {
  describeTarget,
  translateConnectionError,
  translateStatementTimeout,
} from '../src/errors/connection-errors.js';
import { NotFoundError } from '../src/errors/error-classes.js';
import { outcomeOf } from '../src/errors/error-kind.js';
import { assertMigrated } from '../src/install/migrate.js';
import { isExperimentRow, relationSql } from '../src/source/relation-sql.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { printJson } from './output.js';

export interface CommandContext {
  config: StatcacheConfig;
  db: StatDb;
  /**
   * The read replica's pool (DATABASE_READ_URL, its failures naming that variable) and where it is,
   * for a read command (`reads`) or one that asked for it (`replica`); else null.
   */
  replica: { db: StatDb; target: string } | null;
  json: boolean;
}

interface RunOptions {
  json?: boolean;
  /** Skip the "is the schema migrated" check (migrate itself, demo). */
  skipSchemaCheck?: boolean;
  /** Open no database (the demo opens its own). */
  noDatabase?: boolean;
  /** Connections in the pool. @defaultValue 2 (one-shot commands run one statement at a time) */
  poolSize?: number;
  /** Whether the command only reads (serve, totals, sessions): its statements get the read timeout. */
  reads?: boolean;
  /** Open DATABASE_READ_URL's pool too, when set (as `reads` does; the same size, the read timeout). */
  replica?: boolean;
}

/** Runs `body` with a context; returns the exit code it chose (or 0). Never throws. */
export async function runCommand(
  options: RunOptions,
  body: (ctx: CommandContext) => Promise<number | undefined>,
): Promise<number> {
  const json = options.json ?? false;
  let config: StatcacheConfig;
  try {
    config = loadConfig();
  } catch (error) {
    return reportError(error, json, undefined);
  }
  const { timeouts } = config;
  const db = options.noDatabase
    ? undefined
    : createDb(config.databaseUrl, {
        max: options.poolSize ?? 2,
        connectTimeoutMs: timeouts.pgConnectMs,
        statementTimeoutMs: options.reads ? timeouts.readStatementMs : timeouts.pgStatementMs,
      });
  const replica =
    db && (options.reads || options.replica) && config.databaseReadUrl
      ? {
          db: createDb(config.databaseReadUrl, {
            max: options.poolSize ?? 2,
            applicationName: 'statcache-read',
            connectTimeoutMs: timeouts.pgConnectMs,
            statementTimeoutMs: timeouts.readStatementMs,
            urlVariable: 'DATABASE_READ_URL',
          }),
          target: describeTarget(config.databaseReadUrl, 'DATABASE_READ_URL'),
        }
      : null;
  try {
    if (db && !options.skipSchemaCheck) await assertMigrated(db);
    return (await body({ config, db: db as StatDb, replica, json })) ?? 0;
  } catch (error) {
    const limit = options.reads
      ? { timeoutMs: timeouts.readStatementMs, variable: 'STATCACHE_READ_TIMEOUT_MS' }
      : { timeoutMs: timeouts.pgStatementMs, variable: 'STATCACHE_PG_STATEMENT_TIMEOUT_MS' };
    return reportError(translateStatementTimeout(error, limit), json, config);
  } finally {
    await db?.close().catch(() => {});
    await replica?.db.close().catch(() => {});
  }
}

/**
 * Where a read command reads: a plain read on the replica when there is one; a fresh read (exact at
 * the primary's now: a replica's recount is exact only as of what it has replayed) on the primary.
 */
export function readDbFor(ctx: Pick<CommandContext, 'db' | 'replica'>, fresh: boolean | undefined): StatDb {
  return fresh || !ctx.replica ? ctx.db : ctx.replica.db;
}

/**
 * Throws NotFoundError naming every id in `ids` that is not an experiment of `source`: unknown ids,
 * and rows that are published versions of an experiment rather than experiments of their own.
 */
export async function assertExperimentsExist(
  db: Executor,
  ids: readonly number[],
  source: SourceProfile,
): Promise<void> {
  const E = relationSql(source, 'experiments', 'e');
  const rows = await queryRows<{ id: unknown }>(
    db,
    sql`select i.id from unnest(${bigintArray(ids)}) as i(id)
        where not exists (select 1 from ${E.from} where ${E.id} = i.id and ${isExperimentRow(E)})
        order by i.id`,
  );
  if (rows.length > 0) throw new NotFoundError('experiment', [...new Set(rows.map((r) => toNumber(r.id)))]);
}

function reportError(error: unknown, json: boolean, config: StatcacheConfig | undefined): number {
  const translated = config
    ? translateConnectionError(error, config.databaseUrl, config.timeouts.pgConnectMs)
    : error;
  const message = translated instanceof Error ? translated.message : String(translated);
  const name = translated instanceof Error ? translated.name : 'Error';
  process.stderr.write(`statcache: ${firstLine(message)}\n`);
  if (json) printJson({ error: { name, message: firstLine(message) } });
  if (process.env.STATCACHE_DEBUG && translated instanceof Error)
    process.stderr.write(`${translated.stack}\n`);
  return outcomeOf(translated).exitCode;
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() || 'unknown error';
}
