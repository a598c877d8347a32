/**
 * `npm run bench [-- --messages N] [--rounds R] [--database-url URL] [--keep] [--source ocs]
 * [--baseline DIR]`: seeds a
 * fresh database, runs the core (full rebuild vs floor, cached vs live reads) and incremental
 * (refresh, capture overhead) suites, prints a summary and rewrites this size's section of
 * docs/benchmarks.md. With `--source ocs` it seeds two databases alike, one per profile (statcache's
 * demo schema and Open Chat Studio's), runs the core and incremental suites on both and writes the
 * side-by-side section instead, with the change cases (against the release built at `--baseline DIR`,
 * if given) and issue 18's targets.
 * The admin connection (--database-url, else BENCH_DATABASE_URL, else the local server) is only used
 * to create and drop `statcache_bench_<N>`; everything is measured in that database.
 */
import { sql } from 'drizzle-orm';
import { queryRows } from '../src/db/types.js';
import { BUILTIN_PROFILES, STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { type BenchDatabase, createBenchDatabase } from './bench-database.js';
import { loadBaseline, runChangeSuite } from './change-suite.js';
import { runCompressSuite } from './compress-suite.js';
import { runCoreSuite } from './core-suite.js';
import { runIncrementalSuite } from './incremental-suite.js';
import { runIndexCostSuite } from './index-cost-suite.js';
import { note } from './measure.js';
import { type ProfilesResult, renderProfilesSummary, saveProfilesResult } from './profiles-report.js';
import { machineDescription, renderSummary, type SizeResult, saveResult } from './report.js';
import { saveTargets } from './targets-report.js';

const DEFAULT_MESSAGES = 1_000_000;
const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** Floor/full rebuild rounds, alternating: the median of 3 shrugs off one noisy round. */
const DEFAULT_ROUNDS = 3;
/** Capture on/off rounds of 200,000 inserts each: the overhead is a small difference of noisy numbers. */
const OVERHEAD_ROUNDS = 6;
const USAGE = 'use --messages N, --rounds R, --database-url URL, --keep, --source ocs, --baseline DIR';

interface Options {
  messages: number;
  rounds: number;
  keep: boolean;
  databaseUrl: string | undefined;
  /** The profile compared with statcache's, or the statcache profile alone. */
  source: SourceProfile;
  /** A built checkout of the release to compare the change cases with (`--baseline DIR`). */
  baseline: string | undefined;
  /** The command line as recorded in docs: without the admin URL, which may hold a password. */
  recordedArgs: string[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    messages: DEFAULT_MESSAGES,
    rounds: DEFAULT_ROUNDS,
    keep: false,
    databaseUrl: undefined,
    source: STATCACHE_PROFILE,
    baseline: undefined,
    recordedArgs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    // Both `--flag value` and `--flag=value`.
    const [flag = '', inline] = (argv[i] as string).split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value; ${USAGE}`);
      return v;
    };
    const whole = () => {
      const raw = value();
      const v = Number(raw);
      if (!Number.isSafeInteger(v) || v < 1)
        throw new Error(`${flag} needs a positive whole number (got '${raw}')`);
      return v;
    };
    if (flag === '--messages') {
      options.messages = whole();
      options.recordedArgs.push(flag, String(options.messages));
    } else if (flag === '--rounds') {
      options.rounds = whole();
      options.recordedArgs.push(flag, String(options.rounds));
    } else if (flag === '--database-url') options.databaseUrl = value();
    else if (flag === '--keep') {
      options.keep = true;
      options.recordedArgs.push(flag);
    } else if (flag === '--source') {
      const name = value();
      const profile = BUILTIN_PROFILES[name];
      if (!profile || !Object.hasOwn(BUILTIN_PROFILES, name))
        throw new Error(
          `--source must be one of ${Object.keys(BUILTIN_PROFILES).join(', ')} (got '${name}')`,
        );
      options.source = profile;
      options.recordedArgs.push(flag, name);
    } else if (flag === '--baseline') {
      options.baseline = value();
      options.recordedArgs.push(flag, options.baseline);
    } else throw new Error(`unknown option '${argv[i]}'; ${USAGE}`);
  }
  return options;
}

/** Not DATABASE_URL: the bench creates and drops databases, so it only uses a server named for it. */
function adminUrl(options: Options): string {
  const url = options.databaseUrl ?? (process.env.BENCH_DATABASE_URL?.trim() || DEFAULT_ADMIN_URL);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new Error(`the admin database URL is not a URL; example: ${DEFAULT_ADMIN_URL}`);
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:')
    throw new Error(`the admin database URL must start with postgres://; example: ${DEFAULT_ADMIN_URL}`);
  return url;
}

async function version(bench: BenchDatabase): Promise<string> {
  const [row] = await queryRows<{ v: string }>(bench.db, sql`select split_part(version(), ' on ', 1) as v`);
  return row?.v ?? 'PostgreSQL';
}

const commandOf = (options: Options) => {
  const args = options.recordedArgs.join(' ');
  return `npm run bench${args ? ` -- ${args}` : ''}`;
};

/** Every suite on the statcache profile's database; this size's section. */
async function benchSize(options: Options, bench: BenchDatabase): Promise<void> {
  const [core] = await runCoreSuite([bench], options.rounds);
  if (!core) throw new Error('the core suite returned no figures');
  const [incremental] = await runIncrementalSuite([bench], options.messages, OVERHEAD_ROUNDS);
  if (!incremental) throw new Error('the incremental suite returned no figures');
  const compression = await runCompressSuite(bench.db);
  const result: SizeResult = {
    messages: options.messages,
    date: new Date().toISOString().slice(0, 10),
    command: commandOf(options),
    machine: machineDescription(await version(bench)),
    seedMs: bench.seedMs,
    core,
    incremental,
    compression,
  };
  saveResult(result);
  note('wrote docs/benchmarks.md');
  process.stdout.write(`${renderSummary(result)}\n`);
}

/** The core and incremental suites on both profiles' databases; the side-by-side section. */
async function benchProfiles(options: Options, benches: [BenchDatabase, BenchDatabase]): Promise<void> {
  const cores = await runCoreSuite(benches, options.rounds);
  const incrementals = await runIncrementalSuite(benches, options.messages, OVERHEAD_ROUNDS);
  const changes = await runChangeSuite(
    benches,
    options.baseline ? await loadBaseline(options.baseline) : null,
  );
  const figures = [];
  for (const [i, bench] of benches.entries()) {
    const indexCost = await runIndexCostSuite(bench, OVERHEAD_ROUNDS);
    const core = cores[i];
    const incremental = incrementals[i];
    if (!core || !incremental) throw new Error('a suite returned no figures');
    figures.push({
      profile: bench.source.name,
      seedMs: bench.seedMs,
      core,
      incremental,
      indexCost,
      changes: changes[i],
    });
  }
  const result: ProfilesResult = {
    messages: options.messages,
    date: new Date().toISOString().slice(0, 10),
    command: commandOf(options),
    machine: machineDescription(await version(benches[0])),
    profiles: figures as ProfilesResult['profiles'],
  };
  saveProfilesResult(result);
  saveTargets(result);
  note('wrote docs/benchmarks.md');
  process.stdout.write(`${renderProfilesSummary(result)}\n`);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const admin = adminUrl(options);
  const sources =
    options.source === STATCACHE_PROFILE ? [STATCACHE_PROFILE] : [STATCACHE_PROFILE, options.source];
  const benches: BenchDatabase[] = [];
  try {
    for (const source of sources)
      benches.push(await createBenchDatabase(admin, options.messages, { source }));
    const [first, second] = benches as [BenchDatabase, BenchDatabase | undefined];
    if (second) await benchProfiles(options, [first, second]);
    else await benchSize(options, first);
  } finally {
    for (const bench of benches) {
      if (options.keep) {
        await bench.db.close();
        note(`kept database ${bench.name}`);
      } else await bench.drop();
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
