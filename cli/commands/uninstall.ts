/**
 * `statcache uninstall [--yes] [--force]`: removes everything statcache installed (triggers,
 * functions, its tables, its indexes on the platform's tables, the versions column, its migration
 * records) and nothing else. Without --yes it only prints what it would run.
 */
import type { Command } from 'commander';
import { planUninstall, runningStatcache, uninstall } from '../../src/install/uninstall.js';
import { setExitCode } from '../exit-codes.js';
import { lockPolicyOf, lockTimeoutOption } from '../lock-timeout-option.js';
import { printJson, printLine } from '../output.js';
import { runCommand } from '../run-command.js';

interface UninstallCliOptions {
  yes?: boolean;
  force?: boolean;
  json?: boolean;
  lockTimeout: number;
}

export function registerUninstall(program: Command): void {
  program
    .command('uninstall')
    .description('remove everything statcache installed in the database, and nothing else (needs --yes)')
    .option('--yes', 'do it (without it, only print what would be run)')
    .option('--force', 'go ahead even while a statcache worker is connected')
    .addOption(lockTimeoutOption())
    .option('--json', 'print one JSON document')
    .action((options: UninstallCliOptions) =>
      runCommand({ json: options.json, skipSchemaCheck: true }, async ({ db, config, json }) => {
        if (!options.yes) {
          const steps = await planUninstall(db, config.source);
          const running = await runningStatcache(db);
          if (json) printJson({ done: false, steps, running });
          else {
            printLine(
              steps.length === 0
                ? 'statcache is not installed in this database: nothing to remove'
                : `statcache uninstall would run (nothing was changed; pass --yes to do it):`,
            );
            for (const step of steps) {
              printLine(`- ${step.what}${step.lock ? ` (${step.lock.mode} on ${step.lock.table})` : ''}`);
              for (const statement of step.statements) printLine(`    ${statement};`);
            }
            if (running.length > 0)
              printLine(
                `statcache is running against this database: ${running.join('; ')}; stop it first, or pass --force`,
              );
          }
          return 0;
        }
        const steps = await uninstall(db, {
          source: config.source,
          force: options.force ?? false,
          lockPolicy: lockPolicyOf(options.lockTimeout),
        });
        if (json) printJson({ done: true, steps });
        else
          printLine(
            steps.length === 0
              ? 'statcache is not installed in this database: nothing to remove'
              : `removed statcache: ${steps.length} step(s); run \`statcache migrate\` to install it again`,
          );
        return 0;
      }).then(setExitCode),
    );
}
