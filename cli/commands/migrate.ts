/** `statcache migrate`: apply pending migrations (safe to run from several processes at once). */
import type { Command } from 'commander';
import { migrate } from '../../src/db/migrate.js';
import { setExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { runCommand } from '../run-command.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description("create statcache's tables (and the chat tables when missing); safe to run concurrently")
    .option('--json', 'print one JSON document')
    .action((options: { json?: boolean }) =>
      runCommand({ json: options.json, skipSchemaCheck: true }, async ({ db, json }) => {
        const result = await migrate(db);
        if (json) printJson(result);
        else printLine(`applied ${result.applied} migration(s); ${result.total} in total, schema up to date`);
        return 0;
      }).then(setExitCode),
    );
}
