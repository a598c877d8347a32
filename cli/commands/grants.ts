/**
 * `statcache grants --worker ROLE --dashboard ROLE`: prints the GRANT statements those roles need on
 * this database (after migrate), for a DBA to run; changes nothing.
 */
import type { Command } from 'commander';
import { InvalidInputError } from '../../src/errors/error-classes.js';
import { grantsSql } from '../../src/install/grants-sql.js';
import { setExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { parseRoleName } from '../parse-options.js';
import { runCommand } from '../run-command.js';

export function registerGrants(program: Command): void {
  program
    .command('grants')
    .description("print the GRANT statements statcache's worker and dashboard roles need here (runs nothing)")
    .option('--worker <role>', 'the role the worker (refresh, compress, verify) connects as', parseRoleName)
    .option('--dashboard <role>', 'the read-only role `serve` and the read helpers connect as', parseRoleName)
    .option('--json', 'print one JSON document')
    .action((options: { worker?: string; dashboard?: string; json?: boolean }) =>
      runCommand({ json: options.json }, async ({ db, config, json }) => {
        if (!options.worker && !options.dashboard)
          throw new InvalidInputError('name a role: --worker ROLE and/or --dashboard ROLE', 'worker');
        const statements = await grantsSql(db, config.source, options);
        if (json) printJson(statements);
        else for (const statement of statements) printLine(`${statement};`);
        return 0;
      }).then(setExitCode),
    );
}
