/**
 * The statcache CLI's entry: parses the arguments with the program (cli/program.ts) and maps
 * commander's usage errors to exit code 2.
 */
import { CommanderError } from 'commander';
import { EXIT_USAGE } from './exit-codes.js';
import { buildProgram } from './program.js';

const program = buildProgram();

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
