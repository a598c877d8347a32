/**
 * The source-profile comparison (`npm run bench -- --source ocs`): the same figures measured in the
 * same run on the statcache demo schema and on another profile's tables, seeded alike, side by side.
 * The mapping must cost nothing measurable: each of the other profile's figures within 15% of its
 * statcache twin.
 */
import type { ChangeFigures } from './change-suite.js';
import type { CoreFigures } from './core-suite.js';
import type { IncrementalFigures } from './incremental-suite.js';
import type { IndexCostFigures } from './index-cost-suite.js';
import { formatMs, median } from './measure.js';
import { replaceSection } from './report.js';

export interface ProfileFigures {
  profile: string;
  seedMs: number;
  core: CoreFigures;
  incremental: IncrementalFigures;
  /** Inserts with vs without the indexes statcache added to the message table. */
  indexCost: IndexCostFigures;
  /** Issue 18's change cases against a baseline release (absent in older sections). */
  changes?: ChangeFigures;
}

export interface ProfilesResult {
  messages: number;
  date: string;
  command: string;
  machine: string;
  /** The statcache profile first, then the compared one. */
  profiles: [ProfileFigures, ProfileFigures];
}

/** How much costlier a twin may be: "within 15%". */
const TWIN_TOLERANCE = 1.15;
const DATA_OPEN = '<!-- profiles-result ';
const DATA_CLOSE = ' -->';

export const profilesHeading = (messages: number, profile: string) =>
  `## Source profiles: statcache vs ${profile}, ${messages.toLocaleString('en')} messages`;

interface Row {
  label: string;
  /** Display of each profile's figure. */
  text: (p: ProfileFigures) => string;
  /** The number compared (lower is better); absent for rows shown but not judged. */
  value?: (p: ProfileFigures) => number;
}

const captureFactor = (p: ProfileFigures) =>
  median(p.incremental.withCaptureMs) / median(p.incremental.withoutCaptureMs);
const signedPercent = (factor: number) => `${factor >= 1 ? '+' : ''}${((factor - 1) * 100).toFixed(1)}%`;

function rows(r: ProfilesResult): Row[] {
  const [base] = r.profiles;
  return [
    {
      label: `full rebuild (\`refreshFull\` as \`refresh --full\` runs it), median of ${base.core.fullMs.length}`,
      text: (p) => formatMs(median(p.core.fullMs)),
      value: (p) => median(p.core.fullMs),
    },
    {
      label: 'floor (the same statements once over all experiments, unbatched), median',
      text: (p) => formatMs(median(p.core.floorMs)),
    },
    {
      label: 'full rebuild / floor',
      text: (p) => `${(median(p.core.fullMs) / median(p.core.floorMs)).toFixed(2)}×`,
      value: (p) => median(p.core.fullMs) / median(p.core.floorMs),
    },
    {
      label: `incremental refresh after the fixed change (${base.incremental.fixed.newRows.toLocaleString('en')} new + ${base.incremental.fixed.lateRows.toLocaleString('en')} late), median of ${base.incremental.fixed.roundsMs.length}`,
      text: (p) =>
        `${formatMs(p.incremental.fixed.ms)} (${p.incremental.fixed.roundsMs.map(formatMs).join(', ')})`,
      value: (p) => p.incremental.fixed.ms,
    },
    {
      label: 'incremental refresh after 1% new traffic',
      text: (p) =>
        `${formatMs(p.incremental.onePercent.ms)} (${p.incremental.onePercent.changes.toLocaleString('en')} change rows)`,
    },
    {
      label: `capture overhead: 200,000 message inserts with vs without capture, medians of ${base.incremental.withCaptureMs.length}`,
      text: (p) =>
        `${signedPercent(captureFactor(p))} (${formatMs(median(p.incremental.withCaptureMs))} vs ${formatMs(median(p.incremental.withoutCaptureMs))})`,
      // Compared as the factor inserts are slowed by: each platform's own insert cost cancels out.
      value: captureFactor,
    },
    {
      label: `what the indexes \`migrate\` added to the message table cost writers: 200,000 message inserts with vs without them, medians of ${base.incremental.withCaptureMs.length}`,
      text: (p) => {
        const k = p.indexCost;
        if (k.indexes.length === 0) return 'none added';
        const factor = median(k.withMs) / median(k.withoutMs);
        return `${signedPercent(factor)} (${formatMs(median(k.withMs))} vs ${formatMs(median(k.withoutMs))}; ${k.indexes.map((d) => `\`${d.replace(/^CREATE INDEX (\S+) ON \S+ USING btree /, '$1 ')}\``).join(', ')})`;
      },
    },
    {
      label: `\`getExperimentTotals\`, ${base.core.readExperiments} busiest experiments, median of ${base.core.readMs.length}`,
      text: (p) => formatMs(median(p.core.readMs)),
      value: (p) => median(p.core.readMs),
    },
    {
      label: "live query for the same totals on the platform's own tables, median",
      text: (p) =>
        `${formatMs(median(p.core.liveMs))} (${(median(p.core.liveMs) / median(p.core.readMs)).toFixed(0)}× the cached read)`,
    },
    {
      label: 'verify after the incremental refreshes',
      text: (p) => `${p.incremental.verifyMismatches} mismatches`,
    },
  ];
}

/** Each judged row's ratio (other / statcache) and whether it is within the tolerance. */
function judged(r: ProfilesResult) {
  const [base, other] = r.profiles;
  return rows(r).map((row) => {
    if (!row.value) return { row, ratio: undefined, pass: undefined };
    const ratio = row.value(other) / row.value(base);
    return { row, ratio, pass: ratio <= TWIN_TOLERANCE };
  });
}

const verdict = (pass: boolean | undefined) => (pass === undefined ? '' : pass ? 'PASS' : 'MISS');

export function saveProfilesResult(r: ProfilesResult): void {
  const [base, other] = r.profiles;
  const json = JSON.stringify(r).replaceAll('--', '\\u002d\\u002d');
  replaceSection(profilesHeading(r.messages, other.profile), [
    profilesHeading(r.messages, other.profile),
    '',
    `- Date: ${r.date}; command: \`${r.command}\``,
    `- Machine: ${r.machine}`,
    `- Two databases seeded alike (seed 1; ${other.profile}: rows as the platform writes them), seeding ${formatMs(base.seedMs)} and ${formatMs(other.seedMs)}; every round of every figure interleaved between them. The live query counts from each platform's own tables (its rows are wider), so it is shown, not judged. Capture overhead is compared as the factor inserts are slowed by.`,
    '',
    `| measurement | ${base.profile} | ${other.profile} | ${other.profile} / ${base.profile} | within 15% |`,
    '|---|---|---|---|---|',
    ...judged(r).map(
      ({ row, ratio, pass }) =>
        `| ${row.label} | ${row.text(base)} | ${row.text(other)} | ${ratio === undefined ? '' : `${ratio.toFixed(2)}×`} | ${verdict(pass)} |`,
    ),
    '',
    `${DATA_OPEN}${json}${DATA_CLOSE}`,
  ]);
}

export function renderProfilesSummary(r: ProfilesResult): string {
  const [base, other] = r.profiles;
  const lines = judged(r).map(
    ({ row, ratio, pass }) =>
      `  ${row.label}\n    ${base.profile} ${row.text(base)} | ${other.profile} ${row.text(other)}${ratio === undefined ? '' : ` | ${ratio.toFixed(2)}× ${verdict(pass)}`}`,
  );
  return [
    `statcache bench, profiles ${base.profile} vs ${other.profile}, ${r.messages.toLocaleString('en')} messages (${r.date})`,
    ...lines,
  ].join('\n');
}
