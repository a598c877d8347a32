/**
 * `statcache migrate [--create-source-tables] [--dry-run] [--lock-timeout <ms>]`: apply pending
 * migrations and install statcache on the platform's tables (safe to run from several processes at
 * once). The source profile's tables must exist; the option creates statcache's demo ones.
 * `--dry-run` prints every statement it would run on this database, with the lock each takes.
 */
import type { Command } from 'commander';
import { InvalidInputError } from '../../src/errors/error-classes.js';
import type { InstallStep } from '../../src/install/install-plan.js';
import { migrate } from '../../src/install/migrate.js';
import { type MigratePlan, planMigrate } from '../../src/install/migrate-plan.js';
import type { LockPolicy } from '../../src/install/run-steps.js';
import { setExitCode } from '../exit-codes.js';
import { lockPolicyOf, lockTimeoutOption } from '../lock-timeout-option.js';
import { printJson, printLine } from '../output.js';
import { runCommand } from '../run-command.js';

interface MigrateCliOptions {
  json?: boolean;
  createSourceTables?: boolean;
  dryRun?: boolean;
  lockTimeout: number;
}

const describeLock = (step: InstallStep) =>
  step.lock
    ? `${step.lock.mode} on ${step.lock.table} (blocks ${step.lock.blocks})`
    : "no lock on the platform's tables";

/** One statement, indented, ending in exactly one semicolon. */
const printStatement = (statement: string) =>
  printLine(`   ${statement.trim().replace(/;+$/, '').replaceAll('\n', '\n   ')};`);

function printPlan(plan: MigratePlan, policy: LockPolicy): void {
  printLine(
    `statcache migrate --dry-run, profile ${plan.profile}: nothing was changed. migrate would run, in order, each statement under lock_timeout ${policy.timeoutMs} ms (a step that cannot get its lock is retried ${policy.attempts - 1} times, then migrate exits 1 naming who holds it):`,
  );
  let n = 0;
  const printStep = (step: InstallStep) => {
    printLine();
    printLine(
      `${++n}. ${step.what}: ${describeLock(step)}; ${step.transaction ? 'one transaction' : 'outside a transaction'}`,
    );
    for (const statement of step.statements) printStatement(statement);
  };
  for (const step of plan.indexSteps) printStep(step);
  if (plan.migrations.length > 0) {
    printLine();
    printLine(
      `${++n}. ${plan.migrations.length} migration(s) of statcache's own tables, in one transaction (no platform table is touched): ${plan.migrations.map((m) => m.tag).join(', ')}`,
    );
    for (const m of plan.migrations) for (const statement of m.statements) printStatement(statement);
  }
  for (const upgrade of plan.upgrades) {
    printLine();
    printLine(
      `${++n}. batched upgrade ${upgrade} of statcache's own tables: batches of a few thousand rows, each one short transaction, resumable; no platform table is touched`,
    );
  }
  for (const step of plan.steps) printStep(step);
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      "install statcache's tables, functions and triggers on the source tables; safe to run concurrently",
    )
    .option('--create-source-tables', "create statcache's demo chat tables where missing (demo, seed, tests)")
    .option(
      '--dry-run',
      'print every statement migrate would run here, with the locks they take, and change nothing',
    )
    .addOption(lockTimeoutOption())
    .option('--json', 'print one JSON document')
    .action((options: MigrateCliOptions) =>
      runCommand({ json: options.json, skipSchemaCheck: true }, async ({ db, config, json }) => {
        const lockPolicy = lockPolicyOf(options.lockTimeout);
        if (options.dryRun) {
          if (options.createSourceTables)
            throw new InvalidInputError(
              '--dry-run plans on the tables the database has; drop --create-source-tables (the demo tables are statcache-owned copies, see README)',
              'create-source-tables',
            );
          const plan = await planMigrate(db, config.source);
          if (json) printJson({ ...plan, lockPolicy });
          else printPlan(plan, lockPolicy);
          return 0;
        }
        const result = await migrate(db, {
          source: config.source,
          createSourceTables: options.createSourceTables ?? false,
          lockPolicy,
        });
        if (json) printJson(result);
        else printLine(`applied ${result.applied} migration(s); ${result.total} in total, schema up to date`);
        return 0;
      }).then(setExitCode),
    );
}
