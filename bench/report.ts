/**
 * Writes docs/benchmarks.md: one section per message count. A run replaces its own size's section
 * and keeps the others as they were measured. Each section ends with its raw figures in an HTML
 * comment, so the 10M/1M comparison can be rebuilt from the file alone (no second results file).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import pg from 'pg';
import type { BucketRows, CompressFigures } from './compress-suite.js';
import { BATCH_EXPERIMENTS, type CoreFigures } from './core-suite.js';
import type { IncrementalFigures } from './incremental-suite.js';
import { formatMs, median, percentile } from './measure.js';

export interface SizeResult {
  messages: number;
  date: string;
  command: string;
  machine: string;
  seedMs: number;
  core: CoreFigures;
  incremental: IncrementalFigures;
  /** Absent in sections measured before compression existed. */
  compression?: CompressFigures;
}

const MD_PATH = 'docs/benchmarks.md';
const FLATNESS_HEADING = '## 10M / 1M';
/** The read target is stated for 10M messages; smaller runs only show the ratio. */
const READ_TARGET_MESSAGES = 10_000_000;
const READ_TARGET = 20;
const REBUILD_TARGET = 1.3;
/** Compressed reads: ≥ 500× the live query at 10M messages. */
const COMPRESSED_READ_TARGET = 500;
const ONE_DAY_TARGET_MS = 1_000;
const DATA_OPEN = '<!-- bench-result ';
const DATA_CLOSE = ' -->';

/**
 * Replaces (or appends) the `## `-section starting with `heading` in docs/benchmarks.md, keeping
 * every other section: for the benchmarks that are not per message count (worker, dashboard).
 */
export function replaceSection(heading: string, lines: string[]): void {
  const sections = readSections();
  const at = sections.findIndex((section) => section.startsWith(heading));
  // In place when it exists, so a rerun does not reorder the file; appended otherwise.
  // Trimmed like the sections read back, so a section ending in a blank line adds no second one.
  const section = lines.join('\n').trimEnd();
  const parts = at < 0 ? [...sections, section] : sections.map((s, i) => (i === at ? section : s));
  const intro = existsSync(MD_PATH) ? (readFileSync(MD_PATH, 'utf8').split(/^(?=## )/m)[0] ?? '') : '';
  writeFileSync(MD_PATH, `${[intro.trimEnd(), ...parts].join('\n\n').trimEnd()}\n`);
}

/** "PostgreSQL 15.20 (…)" of the server at `databaseUrl`, for the machine line. */
export async function postgresVersion(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ v: string }>("select split_part(version(), ' on ', 1) as v");
    return result.rows[0]?.v ?? 'PostgreSQL';
  } finally {
    await client.end();
  }
}

export function machineDescription(postgresVersion: string): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu} × ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${postgresVersion}`;
}

const sizeHeading = (messages: number) => `## ${messages.toLocaleString('en')} messages`;

/** `## ` sections of the existing file (the intro before them is always rewritten). */
function readSections(): string[] {
  if (!existsSync(MD_PATH)) return [];
  const text = readFileSync(MD_PATH, 'utf8');
  return text
    .split(/^(?=## )/m)
    .filter((part) => part.startsWith('## '))
    .map((part) => part.trimEnd());
}

/** The raw figures a section carries, or null for a section written without them. */
function sectionData(section: string): SizeResult | null {
  const at = section.lastIndexOf(DATA_OPEN);
  if (at < 0) return null;
  const json = section.slice(at + DATA_OPEN.length, section.indexOf(DATA_CLOSE, at));
  try {
    return JSON.parse(json) as SizeResult;
  } catch {
    return null;
  }
}

/** JSON for an HTML comment: "--" (only possible inside strings) is escaped so the comment stays valid. */
const commentJson = (r: SizeResult) => JSON.stringify(r).replaceAll('--', '\\u002d\\u002d');

/** Size sections in ascending size; sections of any other heading after them. */
const orderOf = (messages: number) => (Number.isNaN(messages) ? Number.POSITIVE_INFINITY : messages);

/** Replaces (or adds) this size's section, keeps other sizes' sections, rebuilds the 10M/1M comparison. */
export function saveResult(result: SizeResult): void {
  const kept = readSections().filter(
    (section) =>
      !section.startsWith(`${sizeHeading(result.messages)}\n`) && !section.startsWith(FLATNESS_HEADING),
  );
  const sizes = [
    {
      messages: result.messages,
      text: renderSize(result).join('\n').trimEnd(),
      data: result as SizeResult | null,
    },
    ...kept.map((text) => ({
      messages: Number(/^## ([\d,]+) messages/.exec(text)?.[1]?.replaceAll(',', '') ?? Number.NaN),
      text,
      data: sectionData(text),
    })),
  ].sort((a, b) => orderOf(a.messages) - orderOf(b.messages));
  const results = sizes.flatMap((s) => (s.data ? [s.data] : []));
  const body = [...intro(), ...sizes.map((s) => `${s.text}\n`), renderFlatness(results).join('\n')];
  writeFileSync(MD_PATH, `${body.join('\n').trimEnd()}\n`);
}

const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

function intro(): string[] {
  return [
    '# Benchmarks',
    '',
    'Produced by `npm run bench` (1M messages) and `npm run bench -- --messages 10000000`; each run',
    'rewrites the section of its size and keeps the others (raw figures in a comment at the end of each',
    'section). The machine is shared and noisy, so every target is a ratio against a baseline measured in',
    "the same run. Medians over alternating rounds. The floor is the full rebuild's statements run once",
    'over all experiments in one transaction; before every timed floor or rebuild the cache is emptied,',
    'every `cached_experiment_versions` reset to `{}` and the tables vacuumed, outside the timing. The',
    'live query counts the same totals from the chat tables in one statement, and must equal the cache.',
    '"New traffic" has the seed\'s shape: new sessions (on the experiments of random existing ones, so the',
    'skew is kept) with 20 messages each (45% human), all within one new hour, inserted in 1,000-row',
    'statements; "late" rows are messages into random existing sessions at random instants of the past 90',
    'days. Before each timed incremental refresh the queue is emptied and a CHECKPOINT writes the',
    "inserts' dirty pages, outside the timing; the fixed change is the median of three rounds, each a new",
    'hour. The capture-overhead row inserts into random existing chats, the worst case for capture (one',
    'change row per human message), with and without capture in alternating order, each after a CHECKPOINT.',
    '',
  ];
}

/** The core figures every output shows, computed once. */
function coreFigures(r: SizeResult) {
  const full = median(r.core.fullMs);
  const floor = median(r.core.floorMs);
  const read = median(r.core.readMs);
  const live = median(r.core.liveMs);
  const readTargetApplies = r.messages >= READ_TARGET_MESSAGES;
  return {
    full,
    floor,
    fullRate: r.messages / (full / 1000),
    floorRate: r.messages / (floor / 1000),
    rebuildRatio: full / floor,
    rebuildPass: full / floor <= REBUILD_TARGET,
    read,
    readP95: percentile(r.core.readMs, 95),
    live,
    readRatio: live / read,
    readTarget: readTargetApplies
      ? `≥ ${READ_TARGET}× ${pass(live / read >= READ_TARGET)}`
      : `≥ ${READ_TARGET}× at ${READ_TARGET_MESSAGES.toLocaleString('en')} (not judged here)`,
  };
}

const perSecond = (n: number) => `${Math.round(n).toLocaleString('en')} messages/s`;

function renderSize(r: SizeResult): string[] {
  const c = coreFigures(r);
  const inc = r.incremental;
  const overhead = median(inc.withCaptureMs) / median(inc.withoutCaptureMs) - 1;
  return [
    sizeHeading(r.messages),
    '',
    `- Date: ${r.date}; command: \`${r.command}\``,
    `- Machine: ${r.machine}`,
    `- Seed (deterministic workload, seed 1): ${formatMs(r.seedMs)}; buckets written by a full rebuild: ${r.core.bucketRows.toLocaleString('en')}`,
    '',
    '| measurement | value | baseline | ratio | target |',
    '|---|---|---|---|---|',
    `| full rebuild (${r.core.ctasFloorMs?.length ? `\`statcache refresh --full\` as a user runs it: batches of ${BATCH_EXPERIMENTS} experiments on the default lanes, the policy's shape` : `\`refreshFull\`, batches of ${BATCH_EXPERIMENTS} experiments`}) vs the floor (same statements once, unbatched) | ${formatMs(c.full)} (${perSecond(c.fullRate)}) | ${formatMs(c.floor)} (${perSecond(c.floorRate)}) | ${ratio(c.full, c.floor)} | ≤ ${REBUILD_TARGET}× ${pass(c.rebuildPass)} |`,
    ...(r.core.ctasFloorMs?.length
      ? [
          `| the same \`refresh --full\` vs the CTAS floor (one CREATE TABLE … AS SELECT per rollup, as PostgreSQL plans it); peak RSS of the CLI ${Math.max(...(r.core.fullPeakRssMb ?? [])).toFixed(0)} MB | ${formatMs(c.full)} | ${formatMs(median(r.core.ctasFloorMs))} | ${ratio(c.full, median(r.core.ctasFloorMs))} | ≤ ${REBUILD_TARGET}× ${pass(c.full / median(r.core.ctasFloorMs) <= REBUILD_TARGET)} |`,
        ]
      : []),
    `| \`getExperimentTotals\`, ${r.core.readExperiments} busiest experiments, median (p95) of ${r.core.readMs.length} vs live query, median of ${r.core.liveMs.length} | ${formatMs(c.read)} (${formatMs(c.readP95)}) | ${formatMs(c.live)} | ${c.readRatio.toFixed(0)}× faster | ${c.readTarget} |`,
    `| incremental refresh after 1% new traffic (${inc.onePercent.newRows.toLocaleString('en')} new in one hour + ${inc.onePercent.lateRows.toLocaleString('en')} late over 90 days; ${inc.onePercent.changes.toLocaleString('en')} change rows) vs full rebuild | ${formatMs(inc.onePercent.ms)} | ${formatMs(c.full)} | ${((inc.onePercent.ms / c.full) * 100).toFixed(2)}% | ≤ 3% ${pass(inc.onePercent.ms / c.full <= 0.03)} |`,
    `| incremental refresh after a fixed change (${inc.fixed.newRows.toLocaleString('en')} new + ${inc.fixed.lateRows.toLocaleString('en')} late; ${inc.fixed.changes.toLocaleString('en')} change rows), median of ${inc.fixed.roundsMs.length} (${inc.fixed.roundsMs.map(formatMs).join(', ')}) | ${formatMs(inc.fixed.ms)} | | | see 10M / 1M |`,
    `| insert 200,000 messages in 1,000-row statements, with vs without change capture | ${formatMs(median(inc.withCaptureMs))} | ${formatMs(median(inc.withoutCaptureMs))} | ${overhead >= 0 ? '+' : ''}${(overhead * 100).toFixed(1)}% | ≤ 15% ${pass(overhead <= 0.15)} |`,
    `| verify after the incremental refreshes | ${inc.verifyMismatches} mismatches in ${formatMs(inc.verifyMs)} | | | 0 ${pass(inc.verifyMismatches === 0)} |`,
    '',
    `Rounds: full ${r.core.fullMs.map(formatMs).join(', ')}; floor ${r.core.floorMs.map(formatMs).join(', ')}; ` +
      `live ${r.core.liveMs.map(formatMs).join(', ')}; ` +
      `capture on ${inc.withCaptureMs.map(formatMs).join(', ')}; off ${inc.withoutCaptureMs.map(formatMs).join(', ')}.`,
    '',
    ...(r.compression ? renderCompression(r.messages, r.compression) : []),
    `${DATA_OPEN}${commentJson(r)}${DATA_CLOSE}`,
    '',
  ];
}

const rowsText = (b: BucketRows) =>
  `${(b.hour + b.day + b.month).toLocaleString('en')} (${b.hour.toLocaleString('en')} h, ${b.day.toLocaleString('en')} d, ${b.month.toLocaleString('en')} m)`;

/** The compression table: compression of the whole history and of one day, and reads from compressed buckets. */
function renderCompression(messages: number, k: CompressFigures): string[] {
  const read = median(k.readMs);
  const live = median(k.liveMs);
  const readTarget =
    messages >= READ_TARGET_MESSAGES
      ? `≥ ${COMPRESSED_READ_TARGET}× ${pass(live / read >= COMPRESSED_READ_TARGET)}`
      : `≥ ${COMPRESSED_READ_TARGET}× at ${READ_TARGET_MESSAGES.toLocaleString('en')} (not judged here)`;
  return [
    `Compression (default policy: hourly 1 day, daily 30 days, monthly forever; \`now\` = the newest message, ${k.now}):`,
    '',
    '| measurement | value | baseline | ratio | target |',
    '|---|---|---|---|---|',
    `| compress the whole hourly history built by \`refreshFull\` (${k.history.experiments} experiments, ${k.history.batches} batches): bucket rows after vs before | ${formatMs(k.history.ms)}; ${rowsText(k.history.rows)} | ${rowsText(k.hourlyRebuild.rows)} | ${ratio(k.history.rows.hour + k.history.rows.day + k.history.rows.month, k.hourlyRebuild.rows.hour + k.hourlyRebuild.rows.day + k.hourlyRebuild.rows.month)} of the rows | |`,
    `| \`refresh --full\` straight into the policy's shape vs an hourly full rebuild | ${formatMs(k.shapedRebuild.ms)}; ${rowsText(k.shapedRebuild.rows)} | ${formatMs(k.hourlyRebuild.ms)} | ${ratio(k.shapedRebuild.ms, k.hourlyRebuild.ms)} | same rows as compressed ${pass(JSON.stringify(k.shapedRebuild.rows) === JSON.stringify(k.history.rows))} |`,
    `| compress one day (${k.oneDay.day}) of hourly buckets for ${k.oneDay.experiments} experiments and their sessions: ${k.oneDay.hourlyMerged.toLocaleString('en')} hourly → ${k.oneDay.dailyWritten.toLocaleString('en')} daily buckets | ${formatMs(k.oneDay.ms)} | | | < 1 s ${pass(k.oneDay.ms < ONE_DAY_TARGET_MS)} |`,
    `| \`getExperimentTotals\` on compressed buckets, ${k.readExperiments} busiest experiments, median (p95) of ${k.readMs.length} vs live query, median of ${k.liveMs.length} | ${formatMs(read)} (${formatMs(percentile(k.readMs, 95))}) | ${formatMs(live)} | ${(live / read).toFixed(0)}× faster | ${readTarget} |`,
    `| verify after compressing | ${k.verifyMismatches} mismatches in ${formatMs(k.verifyMs)} | | | 0 ${pass(k.verifyMismatches === 0)} |`,
    '',
  ];
}

/** The plain-text summary printed on stdout at the end of a run. */
export function renderSummary(r: SizeResult): string {
  const c = coreFigures(r);
  const inc = r.incremental;
  const overhead = median(inc.withCaptureMs) / median(inc.withoutCaptureMs) - 1;
  const rows: [string, string][] = [
    ['machine', r.machine],
    ['seed', formatMs(r.seedMs)],
    ['full rebuild (median)', `${formatMs(c.full)}  ${perSecond(c.fullRate)}`],
    ['floor (median)', `${formatMs(c.floor)}  ${perSecond(c.floorRate)}`],
    ['full / floor', `${ratio(c.full, c.floor)}  target ≤ ${REBUILD_TARGET}× ${pass(c.rebuildPass)}`],
    ['cached read (median, p95)', `${formatMs(c.read)}, ${formatMs(c.readP95)}`],
    ['live read (median)', formatMs(c.live)],
    ['live / cached', `${c.readRatio.toFixed(1)}×  target ${c.readTarget}`],
    [
      'incremental, 1% traffic',
      `${formatMs(inc.onePercent.ms)} (${((inc.onePercent.ms / c.full) * 100).toFixed(2)}% of a full rebuild)`,
    ],
    ['incremental, fixed change', formatMs(inc.fixed.ms)],
    ['capture overhead', `${(overhead * 100).toFixed(1)}%`],
    ['verify mismatches', String(inc.verifyMismatches)],
  ];
  const k = r.compression;
  if (k)
    rows.push(
      [
        'compress 90-day history',
        `${formatMs(k.history.ms)}, ${rowsText(k.hourlyRebuild.rows)} → ${rowsText(k.history.rows)}`,
      ],
      ['compress one day', `${formatMs(k.oneDay.ms)} for ${k.oneDay.experiments} experiments`],
      [
        'compressed read vs live',
        `${formatMs(median(k.readMs))} vs ${formatMs(median(k.liveMs))} (${(median(k.liveMs) / median(k.readMs)).toFixed(0)}×)`,
      ],
      ['verify after compress', String(k.verifyMismatches)],
    );
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `statcache bench, ${r.messages.toLocaleString('en')} messages (${r.date})`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ].join('\n');
}

function renderFlatness(results: SizeResult[]): string[] {
  const small = results.find((r) => r.messages === 1_000_000);
  const big = results.find((r) => r.messages === 10_000_000);
  if (!small || !big)
    return [
      FLATNESS_HEADING,
      '',
      "Run both sizes to compare (each run reads the other size's figures from its section here).",
      '',
    ];
  const fixed = big.incremental.fixed.ms / small.incremental.fixed.ms;
  const relSmall = small.incremental.onePercent.ms / median(small.core.fullMs);
  const relBig = big.incremental.onePercent.ms / median(big.core.fullMs);
  return [
    FLATNESS_HEADING,
    '',
    '| measurement | 1M | 10M | 10M/1M | target |',
    '|---|---|---|---|---|',
    `| incremental refresh, same-size change (10,000 new + 1,000 late): flat in history size | ${formatMs(small.incremental.fixed.ms)} | ${formatMs(big.incremental.fixed.ms)} | ${fixed.toFixed(2)} | ≤ 1.5 ${pass(fixed <= 1.5)} |`,
    `| incremental refresh after 1% traffic, as a share of a full rebuild | ${(relSmall * 100).toFixed(2)}% | ${(relBig * 100).toFixed(2)}% | ${(relBig / relSmall).toFixed(2)} | ≤ 1.5 ${pass(relBig / relSmall <= 1.5)} |`,
    `| incremental refresh after 1% traffic, absolute (10× the change at 10M) | ${formatMs(small.incremental.onePercent.ms)} | ${formatMs(big.incremental.onePercent.ms)} | ${(big.incremental.onePercent.ms / small.incremental.onePercent.ms).toFixed(2)} | ≈ 10 (proportional to the change) |`,
    '',
  ];
}
