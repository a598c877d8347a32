/**
 * The statcache CLI. Commands live one per file in cli/commands; this file wires them to commander
 * and maps commander's usage errors to exit code 2.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
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
import { EXIT_USAGE } from './exit-codes.js';

/** package.json beside dist/ (the bin runs dist/cli/main.js). */
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const program = new Command()
  .name('statcache')
  .description('exact, time-bucketed statistics for a chat platform, kept in PostgreSQL')
  .version(VERSION, '-V, --version', 'print the version')
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

try {
  assertNoRepeatedOption(process.argv.slice(2));
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Help and version exit 0; every other commander error is bad usage (it printed its message).
  const ok =
    error.code === 'commander.helpDisplayed' ||
    error.code === 'commander.version' ||
    error.code === 'commander.help';
  if (!ok && process.argv.includes('--json')) {
    process.stdout.write(
      `${JSON.stringify({ error: { name: 'UsageError', message: error.message.replace(/^error: /, '') } }, null, 2)}\n`,
    );
  }
  process.exitCode = ok ? 0 : EXIT_USAGE;
}

/**
 * An option given twice would silently keep the last one (`--experiment 1 --experiment 2` read only
 * 2): refused as bad usage, before anything runs, like every commander usage error.
 */
function assertNoRepeatedOption(args: string[]): void {
  const seen = new Set<string>();
  for (const arg of args) {
    if (arg === '--') return;
    const flag = /^(--[a-z][a-z-]*)(=|$)/.exec(arg)?.[1];
    if (!flag) continue;
    if (seen.has(flag)) {
      const hint =
        flag === '--experiment' ? ' (several ids as one comma-separated list: --experiment 1,2)' : '';
      const message = `error: option '${flag}' was given twice; give it once${hint}`;
      process.stderr.write(`${message}\n`);
      throw new CommanderError(EXIT_USAGE, 'statcache.repeatedOption', message);
    }
    seen.add(flag);
  }
}
