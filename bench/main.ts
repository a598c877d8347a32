/**
 * `npm run bench [-- --messages N] [--rounds R] [--keep]`: seeds a fresh database, runs the core
 * (full rebuild, reads) and incremental (refresh, capture overhead) suites, prints a summary and
 * rewrites docs/benchmarks.md. BENCH_DATABASE_URL (default: DATABASE_URL or the local server) is
 * the admin connection used to create `statcache_bench_<N>`.
 */
import { sql } from 'drizzle-orm';
import { queryRows } from '../src/db/types.js';
import { createBenchDatabase } from './bench-database.js';
import { runCoreSuite } from './core-suite.js';
import { runIncrementalSuite } from './incremental-suite.js';
import { note } from './measure.js';
import { machineDescription, saveResult } from './report.js';

const DEFAULT_MESSAGES = 1_000_000;
const DEFAULT_ROUNDS = 3;
/** Capture on/off rounds of 200,000 inserts each: the overhead is a small difference of noisy numbers. */
const OVERHEAD_ROUNDS = 4;

function parseArgs(argv: string[]): { messages: number; rounds: number; keep: boolean } {
  const options = { messages: DEFAULT_MESSAGES, rounds: DEFAULT_ROUNDS, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1)
        throw new Error(`${arg} needs a positive whole number (got '${argv[i]}')`);
      return v;
    };
    if (arg === '--messages') options.messages = value();
    else if (arg === '--rounds') options.rounds = value();
    else if (arg === '--keep') options.keep = true;
    else throw new Error(`unknown option '${arg}'; use --messages N, --rounds R, --keep`);
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const adminUrl =
    process.env.BENCH_DATABASE_URL ??
    process.env.DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const bench = await createBenchDatabase(adminUrl, options.messages);
  try {
    const [version] = await queryRows<{ v: string }>(
      bench.db,
      sql`select split_part(version(), ' on ', 1) as v`,
    );
    const core = await runCoreSuite(bench.db, options.rounds);
    const incremental = await runIncrementalSuite(bench.db, options.messages, OVERHEAD_ROUNDS);
    const args = process.argv.slice(2).join(' ');
    saveResult({
      messages: options.messages,
      date: new Date().toISOString().slice(0, 10),
      command: `npm run bench${args ? ` -- ${args}` : ''}`,
      machine: machineDescription(version?.v ?? 'PostgreSQL'),
      seedMs: bench.seedMs,
      core,
      incremental,
    });
    note('wrote docs/benchmarks.md and docs/benchmarks.json');
  } finally {
    if (options.keep) await bench.db.close();
    else await bench.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
