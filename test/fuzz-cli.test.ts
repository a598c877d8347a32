/**
 * Fuzzing every CLI flag and every environment variable (fast-check). The flags and variables are
 * discovered, not listed: every option of every command of the real program (cli/program.ts), and
 * every variable loadConfig reads. In process, thousands of random values: each is accepted or
 * refused with one line. Then the real bin, with values refused in process, unknown flags and
 * repeated ones: exit 2, exactly one line on stderr, no stack trace, no hang; and nothing written
 * (a checksum of every statcache and chat table is the same after as before).
 */
import type { Option } from 'commander';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../cli/program.js';
import { loadConfig } from '../src/config.js';
import { StatcacheError } from '../src/errors/error-classes.js';
import { isLoopback } from '../src/http/loopback.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/setup.js';
import { tableChecksums } from './helpers/table-checksums.js';
import { uniquePrefix } from './helpers/worker-process.js';

const t = useTestDatabase({ built: true });
const RUNS = Number(process.env.STATCACHE_FUZZ_RUNS ?? 300);
/** Real processes per flag and per variable: each costs a Node start (~0.5 s). */
const SPAWNS_EACH = 2;
const FUZZ_SEED = 16;

/** Random values of every kind a user might type (no NUL: argv and environ cannot carry it). */
const anyValue: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({ minLength: 500, maxLength: 2000 }),
    fc.integer().map(String),
    fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
    fc.double().map(String),
    fc.array(fc.integer({ min: -5, max: 2_000_000 }), { maxLength: 50 }).map((ids) => ids.join(',')),
    fc
      .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constantFrom(
      '',
      ' ',
      '0',
      '-1',
      'true',
      'yes',
      '1e3',
      '0x10',
      'NaN',
      '2026-02-30T00:00:00Z',
      '0000-01-01T00:00:00Z',
      "x'; drop table teams; --",
      'postgres://',
      'redis://:@/',
      '{statcache}',
      '* * * * * *',
      '../../etc/passwd',
      '/nonexistent/profile.json',
    ),
  )
  .filter((v) => !v.includes('\0'));

const program = buildProgram();
/** Every option of every command that takes a value, with its command. */
const VALUE_OPTIONS = program.commands.flatMap((command) =>
  command.options
    .filter((option) => option.required || option.optional)
    .map((option) => ({ command: command.name(), option })),
);
/** Arguments a command needs before its options are reached. */
const LEADING_ARGS: Record<string, string[]> = { enqueue: ['refresh'] };

/** Whether the option's own parser refuses `value` (commander then exits 2). */
function refused(option: Option, value: string): boolean {
  if (!option.parseArg) return false;
  try {
    option.parseArg(value, undefined);
    return false;
  } catch {
    return true;
  }
}

/** Values a flag refuses: for a flag without a parser (`--host`), ones its command refuses. */
function badValuesFor(command: string, option: Option): string[] {
  const wanted = (v: string) =>
    option.parseArg ? refused(option, v) : command === 'serve' && option.long === '--host' && !isLoopback(v);
  return fc.sample(anyValue.filter(wanted), { numRuns: SPAWNS_EACH, seed: FUZZ_SEED });
}

function expectOneLineUsageError(result: CliResult, what: string): void {
  expect(result.code, `${what}: ${result.stderr}`).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines, what).toHaveLength(1);
  expect(result.stderr, what).not.toMatch(/\n\s+at |\bError: /);
}

/** Runs the jobs at most `width` at a time (each is a Node process). */
async function pooled<T>(jobs: (() => Promise<T>)[], width = 4): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await (jobs[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

let before: Record<string, string>;
beforeAll(async () => {
  before = await tableChecksums(t.db);
});

describe('every CLI flag', () => {
  it('finds the program’s flags (a new flag is fuzzed without being listed here)', () => {
    expect(VALUE_OPTIONS.length).toBeGreaterThan(20);
    expect(VALUE_OPTIONS.map((o) => `${o.command} ${o.option.long}`)).toContain('sessions --limit');
  });

  it.each(
    VALUE_OPTIONS.filter((o) => o.option.parseArg).map((o) => [`${o.command} ${o.option.long}`, o.option]),
  )('%s: its parser takes a value or refuses it with one line', (_name, option) => {
    fc.assert(
      fc.property(anyValue, (value) => {
        try {
          option.parseArg?.(value, undefined);
        } catch (error) {
          expect((error as Error).message).not.toContain('\n');
          expect((error as Error).constructor.name).toBe('InvalidArgumentError');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the real bin: refused values, unknown and repeated flags exit 2 with one line, and write nothing', async () => {
    const env = { STATCACHE_QUEUE_PREFIX: uniquePrefix(), REDIS_URL: 'redis://127.0.0.1:6379' };
    const runs: { what: string; args: string[] }[] = [];
    for (const { command, option } of VALUE_OPTIONS)
      for (const value of badValuesFor(command, option))
        runs.push({
          what: `${command} ${option.long}=${JSON.stringify(value.slice(0, 60))}`,
          args: [command, ...(LEADING_ARGS[command] ?? []), `${option.long}=${value}`],
        });
    for (const command of program.commands) {
      const name = command.name();
      const [unknown] = fc.sample(
        fc
          .stringMatching(/^--[a-z][a-z-]{0,15}$/)
          .filter((flag) => !command.options.some((o) => o.long === flag)),
        { numRuns: 1, seed: FUZZ_SEED },
      );
      runs.push({
        what: `${name} ${unknown}`,
        args: [name, ...(LEADING_ARGS[name] ?? []), unknown as string],
      });
      runs.push({
        what: `${name} --json twice`,
        args: [name, ...(LEADING_ARGS[name] ?? []), '--json', '--json'],
      });
    }
    const [command] = fc.sample(
      fc.stringMatching(/^[a-z]{1,12}$/).filter((c) => !program.commands.some((cmd) => cmd.name() === c)),
      { numRuns: 1, seed: FUZZ_SEED },
    );
    runs.push({ what: `command ${command}`, args: [command as string] });

    const results = await pooled(runs.map((run) => () => runCli(run.args, t.url, env)));
    results.forEach((result, i) => {
      expectOneLineUsageError(result, runs[i]?.what as string);
    });
    expect(await tableChecksums(t.db)).toEqual(before);
  }, 600_000);
});

/** Every variable loadConfig reads, found by watching it read an empty environment. */
function variablesRead(): string[] {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_target, key) {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  loadConfig(env);
  return [...read].sort();
}

describe('every environment variable', () => {
  const variables = variablesRead();

  it('finds the variables loadConfig reads', () => {
    expect(variables).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'STATCACHE_PG_CONNECT_TIMEOUT_MS']),
    );
    expect(variables.length).toBeGreaterThan(20);
  });

  it.each(variables)('%s: a random value is taken or refused with one line naming it', (variable) => {
    fc.assert(
      fc.property(anyValue, (value) => {
        try {
          loadConfig({ [variable]: value });
        } catch (error) {
          expect(error).toBeInstanceOf(StatcacheError);
          const message = (error as Error).message;
          expect(message).not.toContain('\n');
          // It names the variable (a limit set against another names both: KEEP_DAILY_DAYS and
          // KEEP_HOURLY_HOURS), or, for a profile file, the file and the key at fault.
          if (!message.includes(variable)) expect(message).toMatch(/^source profile /);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the real bin: a refused value of each variable exits 2 with one line, and writes nothing', async () => {
    const runs: { what: string; env: Record<string, string> }[] = [];
    for (const variable of variables) {
      const isRefused = (value: string) => {
        try {
          loadConfig({ [variable]: value });
          return false;
        } catch {
          return true;
        }
      };
      // Some variables take any text (STATCACHE_EXCLUDED_PLATFORMS): nothing to refuse there.
      const bad = fc
        .sample(anyValue, { numRuns: 200, seed: FUZZ_SEED })
        .filter(isRefused)
        .slice(0, SPAWNS_EACH);
      for (const value of bad)
        runs.push({ what: `${variable}=${JSON.stringify(value.slice(0, 60))}`, env: { [variable]: value } });
    }
    expect(runs.length).toBeGreaterThan(30);
    const results = await pooled(
      runs.map((run) => () => runCli(['status'], run.env.DATABASE_URL ?? t.url, run.env)),
    );
    results.forEach((result, i) => {
      expectOneLineUsageError(result, runs[i]?.what as string);
    });
    expect(await tableChecksums(t.db)).toEqual(before);
  }, 600_000);
});
