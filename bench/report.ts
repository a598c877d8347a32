/**
 * Writes docs/benchmarks.md from the figures of every size run so far (kept in
 * docs/benchmarks.json), so a 10M run can be compared with the 1M run before it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { CoreFigures } from './core-suite.js';
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
}

const JSON_PATH = 'docs/benchmarks.json';
const MD_PATH = 'docs/benchmarks.md';

export function machineDescription(postgresVersion: string): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu} × ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${postgresVersion}`;
}

export function saveResult(result: SizeResult): SizeResult[] {
  const all: SizeResult[] = existsSync(JSON_PATH) ? JSON.parse(readFileSync(JSON_PATH, 'utf8')) : [];
  const others = all.filter((r) => r.messages !== result.messages);
  const merged = [...others, result].sort((a, b) => a.messages - b.messages);
  writeFileSync(JSON_PATH, `${JSON.stringify(merged, null, 2)}\n`);
  writeFileSync(MD_PATH, render(merged));
  return merged;
}

const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

function render(results: SizeResult[]): string {
  const lines = [
    '# Benchmarks',
    '',
    'Produced by `npm run bench` (1M messages) and `npm run bench -- --messages 10000000`; the figures below',
    'are rewritten on every run (raw numbers in `docs/benchmarks.json`). The machine is shared and noisy, so',
    'every target is a ratio against a baseline measured in the same run. Medians over alternating rounds.',
    '"New traffic" has the seed\'s shape: new sessions (on the experiments of random existing ones, so the',
    'skew is kept) with 20 messages each (45% human), all within one new hour, inserted in 1,000-row',
    'statements; "late" rows are messages into random existing sessions at random instants of the past 90',
    'days. The capture-overhead row inserts into random existing chats, the worst case for capture (one',
    'change row per human message).',
    '',
  ];
  for (const r of results) lines.push(...renderSize(r, results));
  lines.push(...renderFlatness(results));
  return `${lines.join('\n')}\n`;
}

function renderSize(r: SizeResult, _all: SizeResult[]): string[] {
  const full = median(r.core.fullMs);
  const floor = median(r.core.floorMs);
  const read = median(r.core.readMs);
  const live = median(r.core.liveMs);
  const inc = r.incremental;
  const overhead = median(inc.withCaptureMs) / median(inc.withoutCaptureMs) - 1;
  const readTarget = r.messages >= 10_000_000 ? 20 : null;
  return [
    `## ${r.messages.toLocaleString('en')} messages`,
    '',
    `- Date: ${r.date}; command: \`${r.command}\``,
    `- Machine: ${r.machine}`,
    `- Seed (deterministic workload, seed 1): ${formatMs(r.seedMs)}; buckets written by a full rebuild: ${r.core.bucketRows.toLocaleString('en')}`,
    '',
    '| measurement | value | baseline | ratio | target |',
    '|---|---|---|---|---|',
    `| full rebuild (\`refresh --full\`, batches of 50 experiments) vs the floor (same statements once, unbatched) | ${formatMs(full)} (${Math.round(r.messages / (full / 1000)).toLocaleString('en')} messages/s) | ${formatMs(floor)} | ${ratio(full, floor)} | ≤ 1.3× ${pass(full / floor <= 1.3)} |`,
    `| \`getExperimentTotals\`, 25 busiest experiments, median (p95) vs live COUNT query | ${formatMs(read)} (${formatMs(percentile(r.core.readMs, 95))}) | ${formatMs(live)} | ${(live / read).toFixed(0)}× faster | ${readTarget ? `≥ ${readTarget}× ${pass(live / read >= readTarget)}` : '≥ 20× at 10M'} |`,
    `| incremental refresh after 1% new traffic (${inc.onePercent.newRows.toLocaleString('en')} new in one hour + ${inc.onePercent.lateRows.toLocaleString('en')} late over 90 days; ${inc.onePercent.changes.toLocaleString('en')} change rows) vs full rebuild | ${formatMs(inc.onePercent.ms)} | ${formatMs(full)} | ${((inc.onePercent.ms / full) * 100).toFixed(2)}% | ≤ 3% ${pass(inc.onePercent.ms / full <= 0.03)} |`,
    `| incremental refresh after a fixed change (${inc.fixed.newRows.toLocaleString('en')} new + ${inc.fixed.lateRows.toLocaleString('en')} late; ${inc.fixed.changes.toLocaleString('en')} change rows) | ${formatMs(inc.fixed.ms)} | | | see flatness |`,
    `| insert 200,000 messages in 1,000-row statements, with vs without change capture | ${formatMs(median(inc.withCaptureMs))} | ${formatMs(median(inc.withoutCaptureMs))} | +${(overhead * 100).toFixed(1)}% | ≤ 15% ${pass(overhead <= 0.15)} |`,
    `| verify after the incremental refreshes | ${inc.verifyMismatches} mismatches in ${formatMs(inc.verifyMs)} | | | 0 ${pass(inc.verifyMismatches === 0)} |`,
    '',
    `Rounds: full ${r.core.fullMs.map(formatMs).join(', ')}; floor ${r.core.floorMs.map(formatMs).join(', ')}; ` +
      `capture on ${inc.withCaptureMs.map(formatMs).join(', ')}; off ${inc.withoutCaptureMs.map(formatMs).join(', ')}.`,
    '',
  ];
}

function renderFlatness(results: SizeResult[]): string[] {
  const small = results.find((r) => r.messages === 1_000_000);
  const big = results.find((r) => r.messages === 10_000_000);
  if (!small || !big)
    return [
      '## 10M / 1M',
      '',
      'Run both sizes to compare (the 10M run reads the 1M figures from docs/benchmarks.json).',
      '',
    ];
  const fixed = big.incremental.fixed.ms / small.incremental.fixed.ms;
  const relSmall = small.incremental.onePercent.ms / median(small.core.fullMs);
  const relBig = big.incremental.onePercent.ms / median(big.core.fullMs);
  return [
    '## 10M / 1M',
    '',
    '| measurement | 1M | 10M | 10M/1M | target |',
    '|---|---|---|---|---|',
    `| incremental refresh, same-size change (10,000 new + 1,000 late): flat in history size | ${formatMs(small.incremental.fixed.ms)} | ${formatMs(big.incremental.fixed.ms)} | ${fixed.toFixed(2)} | ≤ 1.5 ${pass(fixed <= 1.5)} |`,
    `| incremental refresh after 1% traffic, as a share of a full rebuild | ${(relSmall * 100).toFixed(2)}% | ${(relBig * 100).toFixed(2)}% | ${(relBig / relSmall).toFixed(2)} | ≤ 1.5 ${pass(relBig / relSmall <= 1.5)} |`,
    `| incremental refresh after 1% traffic, absolute (10× the change at 10M) | ${formatMs(small.incremental.onePercent.ms)} | ${formatMs(big.incremental.onePercent.ms)} | ${(big.incremental.onePercent.ms / small.incremental.onePercent.ms).toFixed(2)} | ≈ 10 (proportional to the change) |`,
    '',
  ];
}
