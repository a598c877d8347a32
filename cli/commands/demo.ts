/**
 * `statcache demo`: migrate, seed a small workload, full refresh, verify, and print the busiest
 * experiments. Without DATABASE_URL it runs on embedded PGlite in .statcache/demo (recreated each
 * run), so it needs nothing but Node; with DATABASE_URL it uses that database. Under
 * STATCACHE_SOURCE=ocs it builds Open Chat Studio's schema (as Django creates it) and seeds it the way
 * Django writes.
 */
import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { shapeAt } from '../../src/buckets/shape.js';
import { createDb } from '../../src/db/create-db.js';
import type { StatDb } from '../../src/db/types.js';
import { InvalidInputError } from '../../src/errors/error-classes.js';
import { migrate } from '../../src/install/migrate.js';
import { listExperiments } from '../../src/read/list-experiments.js';
import { refreshFull } from '../../src/rebuild/refresh-full.js';
import { seedWorkload } from '../../src/seed/seed-workload.js';
import { workloadSize } from '../../src/seed/workload-size.js';
import { verify } from '../../src/verify/verify.js';
import { EXIT_FAILURE, setExitCode } from '../exit-codes.js';
import { formatTime, logLine, printJson, printLine, printTable } from '../output.js';
import { intInRange } from '../parse-options.js';
import { runCommand } from '../run-command.js';

/** Where the embedded database lives, relative to the working directory (git-ignored). */
export const DEMO_DATA_DIR = '.statcache/demo';
const DEMO_MESSAGES = 20_000;
const DEMO_SEED = 1;
const TOP_EXPERIMENTS = 10;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'migrate, seed, refresh, verify and print the top experiments (embedded PGlite without DATABASE_URL)',
    )
    .option('--messages <n>', 'size of the seeded workload', intInRange(1, 10_000_000), DEMO_MESSAGES)
    .option('--json', 'print one JSON document')
    .action((options: { messages: number; json?: boolean }) =>
      runCommand({ json: options.json, noDatabase: true }, async ({ config, json }) => {
        let db: StatDb & { close(): Promise<void> };
        if (config.databaseUrlIsDefault) {
          const dir = resolve(DEMO_DATA_DIR);
          await rm(dir, { recursive: true, force: true });
          await mkdir(dir, { recursive: true });
          logLine(`demo: DATABASE_URL is not set; using embedded PGlite in ${dir}`);
          // Loaded only here: PGlite is the demo's alone, and every other command starts without it.
          const { createPgliteDb } = await import('../../src/db/create-pglite-db.js');
          db = await createPgliteDb(dir);
        } else {
          db = createDb(config.databaseUrl, {
            max: 2,
            connectTimeoutMs: config.timeouts.pgConnectMs,
            statementTimeoutMs: config.timeouts.pgStatementMs,
          });
        }
        try {
          const started = Date.now();
          const migrated = await migrate(db, { source: config.source, createSourceTables: true });
          logLine(`demo: schema ready (${migrated.applied} migration(s) applied)`);
          try {
            const seeded = await seedWorkload(db, {
              seed: DEMO_SEED,
              size: workloadSize(options.messages),
              source: config.source,
            });
            logLine(
              `demo: seeded ${seeded.experiments} experiments, ${seeded.sessions} sessions, ${seeded.messages} messages`,
            );
          } catch (error) {
            if (!(error instanceof InvalidInputError)) throw error;
            logLine(`demo: ${error.message.split(';')[0]}; reusing it`);
          }
          const refreshed = await refreshFull(db, {
            excludedPlatforms: config.excludedPlatforms,
            batchExperiments: config.batchExperiments,
            concurrency: config.rebuildConcurrency,
            bucketShape: shapeAt(config.compression, new Date()),
            source: config.source,
          });
          logLine(
            `demo: full refresh wrote ${refreshed.experimentBuckets} experiment and ${refreshed.sessionBuckets} session buckets in ${(refreshed.durationMs / 1000).toFixed(2)} s`,
          );
          const verified = await verify(db, {
            excludedPlatforms: config.excludedPlatforms,
            batchExperiments: config.batchExperiments,
            source: config.source,
          });
          logLine(
            `demo: verify checked ${verified.checked.experiments} experiments, ${verified.checked.sessions} sessions: ${verified.mismatches.length} mismatch(es)`,
          );
          const top = await listExperiments(db, {
            sortBy: 'humanMessages',
            limit: TOP_EXPERIMENTS,
            source: config.source,
          });
          if (json) {
            printJson({
              refresh: refreshed,
              verify: { checked: verified.checked, mismatches: verified.mismatches.length },
              experiments: top.rows.map((r) => ({
                ...r,
                lastActivityAt: r.lastActivityAt?.toISOString() ?? null,
              })),
              total: top.total,
            });
          } else {
            printLine(`Top ${top.rows.length} of ${top.total} experiments by human messages`);
            printTable(
              ['id', 'experiment', 'sessions', 'participants', 'human messages', 'last activity (UTC)'],
              top.rows.map((r) => [
                r.experimentId,
                r.name,
                r.sessions,
                r.participants,
                r.humanMessages,
                formatTime(r.lastActivityAt),
              ]),
            );
            logLine(`demo: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
          }
          return verified.mismatches.length > 0 ? EXIT_FAILURE : 0;
        } finally {
          await db.close();
        }
      }).then(setExitCode),
    );
}
