/**
 * `npm run bench:install [-- --messages N] [--previous-bin PATH]`: what installing and upgrading
 * statcache costs the platform's users. For each built-in profile, on a database holding the
 * platform's tables and N seeded messages but nothing of statcache's (so every index statcache needs
 * that the platform lacks is still missing), `statcache migrate` runs while a writer inserts messages
 * and a reader pages the session list and the dashboard (bench/install-traffic.ts); then, on a
 * database installed and built by the previous release (`--previous-bin`, its bin/statcache.js;
 * this one's when omitted), this release's `migrate` runs under the same traffic. Reports the
 * longest write and read of each run in docs/benchmarks.md.
 */
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BUILTIN_PROFILES } from '../src/source/builtin-profiles.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { createBenchDatabase } from './bench-database.js';
import { dropIndexesStatcacheNeeds, type TrafficWaits, trafficDuring } from './install-traffic.js';
import { formatMs, note, timed } from './measure.js';
import { machineDescription, postgresVersion, replaceSection } from './report.js';

const run = promisify(execFile);
const ADMIN_URL = process.env.BENCH_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
const HEADING = '## Installing and upgrading under traffic';
const BIN = resolve('bin/statcache.js');
const TARGET_MS = 1_000;

function parseArgs(argv: string[]) {
  const options = { messages: 1_000_000, previousBin: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value; use --messages N, --previous-bin PATH`);
    if (flag === '--messages') {
      options.messages = Number(value);
      if (!Number.isSafeInteger(options.messages) || options.messages < 1)
        throw new Error(`--messages needs a positive whole number (got '${value}')`);
    } else if (flag === '--previous-bin') options.previousBin = resolve(value);
    else throw new Error(`unknown option '${flag}'; use --messages N, --previous-bin PATH`);
  }
  return options;
}

/** `statcache <args>` of the bin at `bin`, on `url` under `source`; throws with its stderr on failure. */
async function statcache(bin: string, url: string, source: SourceProfile, args: string[]) {
  await run(process.execPath, [bin, ...args], {
    env: { ...process.env, DATABASE_URL: url, STATCACHE_SOURCE: source.name },
    maxBuffer: 16 * 2 ** 20,
  });
}

interface Measured {
  profile: string;
  kind: 'install' | 'upgrade';
  migrateMs: number;
  waits: TrafficWaits;
}

async function measure(
  source: SourceProfile,
  messages: number,
  kind: Measured['kind'],
  previousBin: string,
): Promise<Measured> {
  const bench = await createBenchDatabase(ADMIN_URL, messages, {
    source,
    install: false,
    databaseName: `statcache_bench_install_${source.name}`,
  });
  try {
    if (kind === 'install') await dropIndexesStatcacheNeeds(bench.db, source);
    if (kind === 'upgrade') {
      note(`${source.name}: installing with ${previousBin} and building the cache`);
      await statcache(previousBin, bench.url, source, ['migrate']);
      await statcache(previousBin, bench.url, source, ['refresh', '--full']);
    }
    note(`${source.name}: ${kind} under traffic`);
    const { value, waits } = await trafficDuring(bench.url, source, () =>
      timed(() => statcache(BIN, bench.url, source, ['migrate'])),
    );
    note(
      `${source.name} ${kind}: migrate ${formatMs(value.ms)}; longest write ${formatMs(waits.longestWriteMs)} of ${waits.writes}, longest read ${formatMs(waits.longestReadMs)} of ${waits.reads}`,
    );
    return { profile: source.name, kind, migrateMs: value.ms, waits };
  } finally {
    await bench.drop();
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const results: Measured[] = [];
  for (const source of Object.values(BUILTIN_PROFILES)) {
    results.push(await measure(source, options.messages, 'install', BIN));
    results.push(await measure(source, options.messages, 'upgrade', options.previousBin ?? BIN));
  }
  const pass = (ms: number) => (ms < TARGET_MS ? 'PASS' : 'MISS');
  // Which release the previous bin is, when it sits in a git checkout (a worktree of an old commit).
  const previous = options.previousBin
    ? await run('git', ['-C', dirname(options.previousBin), 'rev-parse', '--short', 'HEAD']).then(
        (r) => `, commit ${r.stdout.trim()} built in a git worktree`,
        () => '',
      )
    : '';
  const args = process.argv.slice(2).join(' ');
  replaceSection(HEADING, [
    HEADING,
    '',
    `- Date: ${new Date().toISOString().slice(0, 10)}; command: \`npm run bench:install${args ? ` -- ${args}` : ''}\``,
    `- Machine: ${machineDescription(await postgresVersion(ADMIN_URL))}`,
    `- Each profile's tables with ${options.messages.toLocaleString('en')} seeded messages and nothing of statcache's, and for the install none of the platform's indexes statcache relies on either (all dropped but those backing a constraint, so migrate builds them, concurrently, under the traffic); \`statcache migrate\` (the CLI) runs while a writer inserts one message per statement into random chats and a reader pages the team's session list and the dashboard's experiments page. Upgrade: a database installed and built by ${options.previousBin ? `the previous release (\`${args}\`${previous})` : 'this release (no --previous-bin given: what an upgrade re-applies, the functions and triggers)'}, then this release's migrate under the same traffic.`,
    '',
    `| profile | run | migrate | writes | longest write | reads | longest read | target < ${formatMs(TARGET_MS)} |`,
    '|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.profile} | ${r.kind} | ${formatMs(r.migrateMs)} | ${r.waits.writes.toLocaleString('en')} | ${formatMs(r.waits.longestWriteMs)} | ${r.waits.reads.toLocaleString('en')} | ${formatMs(r.waits.longestReadMs)} | ${pass(Math.max(r.waits.longestWriteMs, r.waits.longestReadMs))} |`,
    ),
  ]);
  note('wrote docs/benchmarks.md');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
