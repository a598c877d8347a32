/**
 * `npm run bench:worker [-- --messages N] [--seconds S] [--rate R] [--rebuild-messages M]`: freshness
 * and memory of a real worker. A `statcache worker` process (refresh every 5 s) runs against a seeded database
 * while a writer inserts R human messages per second for S seconds; every 200 ms the bench reads
 * `getExperimentTotals` and notes when each write became visible (its lag). The worker's RSS is
 * sampled from /proc throughout, and again while a worker runs the first full build of an
 * M-message database. Writes its section of docs/benchmarks.md.
 *
 * `npm run bench:worker -- --scaling [--messages N] [--seconds S] [--rates 500,1000,2000]`: the
 * sustained write rate, one and two worker processes at each rate on one seeded database, and where
 * lag p99 stops staying within the refresh interval + 5 s. Writes its own section.
 */
import { createBenchDatabase } from './bench-database.js';
import { formatMs, note } from './measure.js';
import { machineDescription, postgresVersion, replaceSection } from './report.js';
import {
  dropPrefix,
  EXPERIMENTS_WRITTEN,
  type FreshnessResult,
  freshnessRun,
  POLL,
  perTickOf,
  REFRESH_EVERY_MS,
  spawnWorker,
  WRITE_TICK,
} from './worker-run.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
const HEADING = '## Worker: freshness under load and memory';

const SCALING_HEADING = '## Worker: sustained write rate, one and two workers';

function parseArgs(argv: string[]) {
  const options = {
    messages: 1_000_000,
    seconds: 120,
    rate: 500,
    rebuildMessages: 10_000_000,
    scaling: false,
    rates: [500, 1_000, 2_000],
  };
  const keys: Record<string, 'messages' | 'seconds' | 'rate' | 'rebuildMessages'> = {
    '--messages': 'messages',
    '--seconds': 'seconds',
    '--rate': 'rate',
    '--rebuild-messages': 'rebuildMessages',
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--scaling') {
      options.scaling = true;
      continue;
    }
    if (argv[i] === '--rates') {
      const rates = (argv[i + 1] ?? '').split(',').map(Number);
      if (rates.length === 0 || rates.some((r) => !Number.isSafeInteger(r) || r < 1))
        throw new Error(`--rates needs positive whole numbers like 500,1000,2000 (got '${argv[i + 1]}')`);
      options.rates = rates;
      i++;
      continue;
    }
    const key = keys[argv[i] as string];
    const value = Number(argv[i + 1]);
    if (!key)
      throw new Error(
        `unknown option '${argv[i]}'; use --messages N, --seconds S, --rate R, --rebuild-messages M, --scaling, --rates A,B,C`,
      );
    if (!Number.isSafeInteger(value) || value < 1)
      throw new Error(`${argv[i]} needs a positive whole number (got '${argv[i + 1]}')`);
    options[key] = value;
    i++;
  }
  return options;
}

async function rebuildMemory(messages: number) {
  const bench = await createBenchDatabase(ADMIN_URL, messages, { databaseName: 'statcache_bench_worker' });
  const prefix = `bench-worker-rebuild-${process.pid}`;
  try {
    const worker = spawnWorker(bench.url, prefix);
    const started = Date.now();
    await worker.waitFor('first full build of the cache done', 3_600_000);
    const buildMs = Date.now() - started;
    await worker.stop();
    return { messages, buildMs, peakRssMb: worker.peakRssMb() };
  } finally {
    await dropPrefix(prefix);
    await bench.drop();
  }
}

async function freshness(options: ReturnType<typeof parseArgs>): Promise<FreshnessResult> {
  const bench = await createBenchDatabase(ADMIN_URL, options.messages, {
    databaseName: 'statcache_bench_worker',
  });
  try {
    return await freshnessRun(bench, { rate: options.rate, seconds: options.seconds, workers: 1 });
  } finally {
    await bench.drop();
  }
}

/** Every rate with one and then two workers, on one seeded database (each run starts refreshed). */
async function scaling(options: ReturnType<typeof parseArgs>): Promise<void> {
  const bench = await createBenchDatabase(ADMIN_URL, options.messages, {
    databaseName: 'statcache_bench_worker',
  });
  const runs: FreshnessResult[] = [];
  try {
    for (const rate of options.rates)
      for (const workers of [1, 2]) {
        const run = await freshnessRun(bench, { rate, seconds: options.seconds, workers });
        note(
          `${rate}/s, ${workers} worker(s): lag p50 ${formatMs(run.p50)}, p99 ${formatMs(run.p99)}, ${run.unseen} unseen`,
        );
        runs.push(run);
      }
  } finally {
    await bench.drop();
  }
  const version = await postgresVersion(ADMIN_URL);
  const target = REFRESH_EVERY_MS + 5_000;
  const keepsUp = (r: FreshnessResult) => r.unseen === 0 && r.p99 <= target;
  const highest = (workers: number) =>
    Math.max(0, ...runs.filter((r) => r.workers === workers && keepsUp(r)).map((r) => r.rate));
  const args = process.argv.slice(2).join(' ');
  replaceSection(SCALING_HEADING, [
    SCALING_HEADING,
    '',
    `- Date: ${new Date().toISOString().slice(0, 10)}; command: \`npm run bench:worker -- ${args}\``,
    `- Machine: ${machineDescription(version)}; the worker(s), the writer, the poller and PostgreSQL share it`,
    `- ${options.messages.toLocaleString('en')}-message seeded database, refresh every ${REFRESH_EVERY_MS / 1000} s; at each rate a writer inserts human messages (one statement every ${WRITE_TICK} ms, round-robin over ${EXPERIMENTS_WRITTEN} experiments) for ${options.seconds} s; lag = from the insert's commit to the first \`getExperimentTotals\` poll (every ${POLL} ms) that counts it. "Keeps up": every write visible and lag p99 ≤ interval + 5 s = ${formatMs(target)}.`,
    '',
    '| human messages/s | workers | inserts (messages) | lag p50 | lag p99 | max | unseen after 60 s | peak RSS | keeps up |',
    '|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      (r) =>
        `| ${r.rate.toLocaleString('en')} | ${r.workers} | ${r.writes.toLocaleString('en')} (${r.messages.toLocaleString('en')}, ${perTickOf(r.rate)} per insert) | ${formatMs(r.p50)} | ${formatMs(r.p99)} | ${formatMs(r.max)} | ${r.unseen} | ${r.peakRssMb.toFixed(0)} MB | ${keepsUp(r) ? 'yes' : 'no'} |`,
    ),
    '',
    `Highest rate kept up: ${highest(1).toLocaleString('en')}/s with one worker, ${highest(2).toLocaleString('en')}/s with two (of the rates tried).`,
  ]);
  note('wrote docs/benchmarks.md');
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.scaling) {
    await scaling(options);
    return;
  }
  const fresh = await freshness(options);
  note(
    `lag p50 ${formatMs(fresh.p50)}, p99 ${formatMs(fresh.p99)}, peak RSS ${fresh.peakRssMb.toFixed(0)} MB`,
  );
  const rebuild = await rebuildMemory(options.rebuildMessages);
  note(
    `first full build of ${rebuild.messages} messages in ${formatMs(rebuild.buildMs)}, peak RSS ${rebuild.peakRssMb.toFixed(0)} MB`,
  );
  const version = await postgresVersion(ADMIN_URL);
  const target = REFRESH_EVERY_MS + 5_000;
  const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const args = process.argv.slice(2).join(' ');
  replaceSection(HEADING, [
    HEADING,
    '',
    `- Date: ${new Date().toISOString().slice(0, 10)}; command: \`npm run bench:worker${args ? ` -- ${args}` : ''}\``,
    `- Machine: ${machineDescription(version)}`,
    `- One \`statcache worker\` process, refresh every ${REFRESH_EVERY_MS / 1000} s, on a ${options.messages.toLocaleString('en')}-message seeded database; a writer inserts ${options.rate} human messages/s (${Math.round((options.rate * WRITE_TICK) / 1000)} every ${WRITE_TICK} ms, round-robin over ${EXPERIMENTS_WRITTEN} experiments) for ${fresh.seconds} s; lag = from the insert's commit to the first \`getExperimentTotals\` poll (every ${POLL} ms) that counts it.`,
    '',
    '| measurement | value | target |',
    '|---|---|---|',
    `| writes visible (of ${fresh.writes.toLocaleString('en')} inserts, ${fresh.messages.toLocaleString('en')} messages) | ${(fresh.writes - fresh.unseen).toLocaleString('en')} | all ${pass(fresh.unseen === 0)} |`,
    `| lag p50 | ${formatMs(fresh.p50)} | |`,
    `| lag p99 (max ${formatMs(fresh.max)}) | ${formatMs(fresh.p99)} | ≤ interval + 5 s = ${formatMs(target)} ${pass(fresh.p99 <= target)} |`,
    `| worker peak RSS under that load | ${fresh.peakRssMb.toFixed(0)} MB | < 200 MB ${pass(fresh.peakRssMb < 200)} |`,
    `| worker peak RSS during the first full build of ${rebuild.messages.toLocaleString('en')} messages (${formatMs(rebuild.buildMs)} from start) | ${rebuild.peakRssMb.toFixed(0)} MB | < 200 MB ${pass(rebuild.peakRssMb < 200)} |`,
    `| worker exit code after SIGTERM | ${fresh.exitCode} | 0 ${pass(fresh.exitCode === 0)} |`,
  ]);
  note('wrote docs/benchmarks.md');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
