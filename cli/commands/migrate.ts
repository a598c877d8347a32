/**
 * `statcache migrate [--create-source-tables]`: apply pending migrations (safe to run from several
 * processes at once). The source profile's tables must exist; the option creates statcache's demo ones.
 */
import type { Command } from 'commander';
import { migrate } from '../../src/install/migrate.js';
import { setExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { runCommand } from '../run-command.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      "install statcache's tables, functions and triggers on the source tables; safe to run concurrently",
    )
    .option('--create-source-tables', "create statcache's demo chat tables where missing (demo, seed, tests)")
    .option('--json', 'print one JSON document')
    .action((options: { json?: boolean; createSourceTables?: boolean }) =>
      runCommand({ json: options.json, skipSchemaCheck: true }, async ({ db, config, json }) => {
        const result = await migrate(db, {
          source: config.source,
          createSourceTables: options.createSourceTables ?? false,
        });
        if (json) printJson(result);
        else printLine(`applied ${result.applied} migration(s); ${result.total} in total, schema up to date`);
        return 0;
      }).then(setExitCode),
    );
}
