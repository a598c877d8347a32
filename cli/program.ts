/**
 * The statcache CLI's commands, wired to commander: one per file in cli/commands. Built without
 * parsing anything, so tests can walk every command and option.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCompress } from './commands/compress.js';
import { registerDemo } from './commands/demo.js';
import { registerEnqueue } from './commands/enqueue.js';
import { registerGrants } from './commands/grants.js';
import { registerMigrate } from './commands/migrate.js';
import { registerRefresh } from './commands/refresh.js';
import { registerSeed } from './commands/seed.js';
import { registerServe } from './commands/serve.js';
import { registerSessions } from './commands/sessions.js';
import { registerSource } from './commands/source.js';
import { registerStatus } from './commands/status.js';
import { registerTotals } from './commands/totals.js';
import { registerUninstall } from './commands/uninstall.js';
import { registerVerify } from './commands/verify.js';
import { registerWorker } from './commands/worker.js';

/** package.json at the repository root (two levels up from dist/cli/ and from cli/ alike). */
function packageVersion(): string {
  for (const path of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version: string })
        .version;
    } catch {}
  }
  return 'unknown';
}

export function buildProgram(): Command {
  const program = new Command()
    .name('statcache')
    .description('exact, time-bucketed statistics for a chat platform, kept in PostgreSQL')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showSuggestionAfterError()
    .exitOverride();
  for (const register of [
    registerMigrate,
    registerRefresh,
    registerCompress,
    registerVerify,
    registerTotals,
    registerSessions,
    registerStatus,
    registerSeed,
    registerDemo,
    registerWorker,
    registerEnqueue,
    registerServe,
    registerSource,
    registerUninstall,
    registerGrants,
  ]) {
    register(program);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}
