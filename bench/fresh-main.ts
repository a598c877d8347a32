/**
 * `npm run bench:fresh [-- --messages N]`: fresh reads against plain and live ones (bench/fresh-suite.ts)
 * on a database seeded with N messages (default 1,000,000) and fully built; writes the size's
 * "Fresh reads" section of docs/benchmarks.md. Targets: with at most 100 pending changes a fresh page
 * costs at most 1/20 of the live query (judged at 10,000,000 messages); with none, at most 1.5× the
 * plain read; never slower than live.
 */
import { sql } from 'drizzle-orm';
import { DEFAULT_COMPRESSION_POLICY, shapeAt } from '../src/buckets/shape.js';
import { queryRows } from '../src/db/types.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { DEFAULT_SEED_UNTIL } from '../src/seed/seed-workload.js';
import { createBenchDatabase } from './bench-database.js';
import { BATCH_EXPERIMENTS, EXCLUDED } from './core-suite.js';
import { type FreshLevel, runFreshSuite } from './fresh-suite.js';
import { formatMs, median, note, timed } from './measure.js';
import { machineDescription, replaceSection } from './report.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
const LIVE_RATIO_TARGET = 20;
const PLAIN_RATIO_TARGET = 1.5;
const JUDGED_AT = 10_000_000;
const NOW = new Date(DEFAULT_SEED_UNTIL.getTime() + 3_600_000);

function parseArgs(argv: string[]): { messages: number } {
  const options = { messages: 1_000_000 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split(/=(.*)/s, 2);
    const value = inline ?? argv[++i];
    if (flag !== '--messages') throw new Error(`unknown option '${argv[i]}'; use --messages N`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new Error(`--messages needs a positive whole number (got '${value}')`);
    options.messages = n;
  }
  return options;
}

const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');

function render(
  messages: number,
  command: string,
  machine: string,
  buildMs: number,
  levels: FreshLevel[],
): string[] {
  const judged = messages >= JUDGED_AT;
  const lines = [
    `## Fresh reads, ${messages.toLocaleString('en')} messages`,
    '',
    `- Date: ${new Date().toISOString().slice(0, 10)}; command: \`${command}\``,
    `- Machine: ${machine}`,
    `- The dashboard's page: the 25 busiest experiments by human messages (\`listExperiments\`), plain (today's statement, its freshness included), \`fresh: true\`, and the live query (every experiment counted from the chat tables, then sorted); "previous" is the plain statement as it was before answers carried their freshness. Medians of 15 interleaved runs (live: 3). Default bound: \`STATCACHE_FRESH_MAX_PENDING\` = 5,000; beyond it the fresh read answers from the cache (\`fellBack\`), and the "bound raised" column is the same read recounting anyway. Pending changes are human messages into the page's sessions, one change row each, half in a new hour and half late over the past 90 days; at every level the fresh page was checked equal to the live one first. The cache is in the compression policy's shape an hour after the seed's last message (the last day hourly, the 30 days before daily, older months monthly), so late changes recount day and month buckets. Full build before: ${formatMs(buildMs)}.`,
    '',
    '| pending changes | previous | plain | fresh (default bound) | fresh, bound raised | live | fresh / plain | live / fresh | targets |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const l of levels) {
    const fresh = median(l.freshMs);
    const plain = median(l.plainMs);
    const live = median(l.liveMs);
    const targets = [`never slower than live: ${pass(fresh < live)}`];
    if (l.pending === 0)
      targets.push(`≤ ${PLAIN_RATIO_TARGET}× plain: ${pass(fresh <= PLAIN_RATIO_TARGET * plain)}`);
    if (l.pending <= 100)
      targets.push(
        judged
          ? `≤ 1/${LIVE_RATIO_TARGET} of live: ${pass(fresh * LIVE_RATIO_TARGET <= live)}`
          : `≤ 1/${LIVE_RATIO_TARGET} of live at 10M (not judged here)`,
      );
    const unbound = l.unboundMs.length > 0 ? median(l.unboundMs) : null;
    if (unbound !== null) targets.push(`recounting anyway: ${(live / unbound).toFixed(1)}× faster than live`);
    lines.push(
      `| ${l.pending.toLocaleString('en')} | ${formatMs(median(l.previousMs))} | ${formatMs(plain)} | ${formatMs(fresh)} (${l.mode}) | ${unbound === null ? '—' : formatMs(unbound)} | ${formatMs(live)} | ${(fresh / plain).toFixed(2)}× | ${(live / fresh).toFixed(1)}× | ${targets.join('; ')} |`,
    );
  }
  lines.push('', `<!-- fresh-result ${JSON.stringify({ messages, levels })} -->`);
  return lines;
}

async function main(): Promise<void> {
  const { messages } = parseArgs(process.argv.slice(2));
  const bench = await createBenchDatabase(ADMIN_URL, messages, {
    databaseName: `statcache_bench_fresh_${messages}`,
  });
  try {
    const build = await timed(() =>
      refreshFull(bench.db, {
        excludedPlatforms: EXCLUDED,
        batchExperiments: BATCH_EXPERIMENTS,
        // As a deployment's cache is an hour after the seed's last message: the last day hourly,
        // the month before daily, the rest monthly, so late changes land in coarse buckets.
        bucketShape: shapeAt(DEFAULT_COMPRESSION_POLICY, NOW),
      }),
    );
    // The chat tables as autovacuum keeps them (the seed just wrote them).
    await bench.db.execute(sql`vacuum analyze chat_messages, experiment_sessions, chats, participants`);
    note(`full build ${formatMs(build.ms)}`);
    const levels = await runFreshSuite(bench.db);
    const [v] = await queryRows<{ v: string }>(bench.db, sql`select split_part(version(), ' on ', 1) as v`);
    const command = `npm run bench:fresh${messages === 1_000_000 ? '' : ` -- --messages ${messages}`}`;
    const lines = render(messages, command, machineDescription(v?.v ?? 'PostgreSQL'), build.ms, levels);
    replaceSection(`## Fresh reads, ${messages.toLocaleString('en')} messages`, lines);
    note('wrote docs/benchmarks.md');
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await bench.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
