/**
 * A PostgreSQL primary and its streaming replica, both the test's own, on loopback: `initdb` into a
 * temp directory, `pg_basebackup -R -X stream` for the replica, a free port each; started, stopped
 * and removed by the test (and stopped on exit if the test process dies first). Not a replica of the
 * main test server: its pg_hba.conf has no `replication` line, and a base backup of it would copy
 * every test file's database; a primary of the test's own is small and leaves the machine's cluster
 * as it was. As root (CI containers) the servers run as the `postgres` OS user (PostgreSQL refuses
 * root), which then owns the temp directory.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

/** PostgreSQL's server binaries: STATCACHE_PG_BIN, or `pg_config --bindir`, or Debian's 15. */
const PG_BIN = process.env.STATCACHE_PG_BIN ?? findBinDir();
/** How long a server command (initdb, start, stop, a base backup) may take before the test fails. */
const COMMAND_TIMEOUT_MS = 60_000;
/** The OS user the servers run as when the test runs as root. */
const SERVER_USER = 'postgres';
const AS_ROOT = process.getuid?.() === 0;
/**
 * Server settings for a throwaway pair: loopback only, no fsync (nothing here must survive a crash
 * of the machine), WAL for a replica.
 */
const SERVER_SETTINGS = [
  '-c listen_addresses=127.0.0.1',
  '-c fsync=off',
  '-c full_page_writes=off',
  '-c wal_level=replica',
  '-c max_wal_senders=4',
  '-c max_connections=40',
];

function findBinDir(): string {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'pg_basebackup'))) return dir;
  } catch {
    // No pg_config on PATH: Debian's location below.
  }
  return '/usr/lib/postgresql/15/bin';
}

export interface StreamingPair {
  readonly primaryPort: number;
  readonly replicaPort: number;
  /** A database's URL on the primary (user postgres, trust). */
  primaryUrl(database: string): string;
  /** The same database's URL on the replica. */
  replicaUrl(database: string): string;
  /** Resolves once the replica has replayed all the WAL the primary had written when it was called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Stops the replica at once (`pg_ctl stop -m immediate`: connections drop, as in a crash). */
  stopReplica(): Promise<void>;
  /** Starts the replica again (it replays what it missed, then streams). */
  startReplica(): Promise<void>;
  /** Stops both servers and removes the directory; safe to call twice, and after a failed start. */
  destroy(): Promise<void>;
}

/** Runs a server binary (as the servers' OS user when root); rejects with its stderr. */
function run(binary: string, args: string[]): Promise<string> {
  const [file, argv] = AS_ROOT
    ? ['runuser', ['-u', SERVER_USER, '--', join(PG_BIN, binary), ...args]]
    : [join(PG_BIN, binary), args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${binary} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** One statement on a short-lived connection (admin and probe queries). */
async function queryOnce<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Creates the pair: a primary (initdb, started), then a base backup of it started as its replica.
 * Databases created on the primary afterwards reach the replica through WAL.
 */
export async function startStreamingPair(): Promise<StreamingPair> {
  const root = mkdtempSync(join(tmpdir(), 'statcache-replica-'));
  if (AS_ROOT) {
    const uid = Number(execFileSync('id', ['-u', SERVER_USER], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', SERVER_USER], { encoding: 'utf8' }));
    chownSync(root, uid, gid);
  }
  const dirs = { primary: join(root, 'primary'), replica: join(root, 'replica') };
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const url = (port: number, database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const start = (dir: string, port: number) =>
    run('pg_ctl', [
      '-D',
      dir,
      '-o',
      [`-p ${port}`, `-k ${root}`, ...SERVER_SETTINGS].join(' '),
      '-l',
      `${dir}.log`,
      '-w',
      '-t',
      String(COMMAND_TIMEOUT_MS / 1000),
      'start',
    ]);
  const stop = async (dir: string) => {
    if (existsSync(join(dir, 'postmaster.pid')))
      await run('pg_ctl', ['-D', dir, '-m', 'immediate', '-w', 'stop']);
  };
  // If the test process ends without destroy() (a crash, a kill), the servers must not outlive it.
  const stopOnExit = () => {
    for (const dir of [dirs.replica, dirs.primary])
      try {
        if (existsSync(join(dir, 'postmaster.pid')))
          execFileSync(AS_ROOT ? 'runuser' : join(PG_BIN, 'pg_ctl'), [
            ...(AS_ROOT ? ['-u', SERVER_USER, '--', join(PG_BIN, 'pg_ctl')] : []),
            ...['-D', dir, '-m', 'immediate', 'stop'],
          ]);
      } catch {
        // Best effort on the way out.
      }
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', stopOnExit);
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    process.off('exit', stopOnExit);
    await stop(dirs.replica).catch(() => {});
    await stop(dirs.primary).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  };
  try {
    // initdb's default pg_hba.conf trusts local and 127.0.0.1 connections, replication included.
    await run('initdb', [
      '-D',
      dirs.primary,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '-N',
    ]);
    await start(dirs.primary, primaryPort);
    await run('pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres'],
      ...['-D', dirs.replica, '-R', '-X', 'stream', '-c', 'fast', '-N'],
    ]);
    await start(dirs.replica, replicaPort);
  } catch (error) {
    const logs = [dirs.primary, dirs.replica]
      .map((dir) => `${dir}.log`)
      .filter((log) => existsSync(log))
      .map((log) => `--- ${log}\n${readFileSync(log, 'utf8').slice(-2_000)}`)
      .join('\n');
    await destroy();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
  return {
    primaryPort,
    replicaPort,
    primaryUrl: (database) => url(primaryPort, database),
    replicaUrl: (database) => url(replicaPort, database),
    async caughtUp(timeoutMs = 30_000) {
      const [written] = await queryOnce<{ lsn: string }>(
        url(primaryPort, 'postgres'),
        'select pg_current_wal_lsn()::text as lsn',
      );
      await waitFor(
        async () => {
          const [row] = await queryOnce<{ done: boolean }>(
            url(replicaPort, 'postgres'),
            'select pg_last_wal_replay_lsn() >= $1::pg_lsn as done',
            [written?.lsn],
          );
          return row?.done;
        },
        { timeoutMs, intervalMs: 50, what: `the replica to replay the primary's WAL up to ${written?.lsn}` },
      );
    },
    stopReplica: () => stop(dirs.replica),
    startReplica: async () => {
      await start(dirs.replica, replicaPort);
    },
    destroy,
  };
}
