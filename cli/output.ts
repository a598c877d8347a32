/** Printing: one JSON document on stdout with --json, aligned tables otherwise; logs go to stderr. */

/** Writes `value` as the command's single JSON document. Dates become ISO-8601 UTC strings. */
import type { Freshness } from '../src/read/freshness.js';
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A line for humans on stdout. */
export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Progress and notes: always stderr, so stdout stays parseable. */
export function logLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Prints rows as a left/right-aligned text table (numbers right-aligned). */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const format = (cells: (string | number)[]) =>
    cells
      .map((cell, i) =>
        typeof cell === 'number'
          ? String(cell).padStart(widths[i] ?? 0)
          : String(cell).padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  printLine(format(headers));
  printLine(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) printLine(format(row));
}

/** ISO-8601 UTC or '-' for tables. */
export function formatTime(value: Date | null): string {
  return value ? value.toISOString() : '-';
}

/** JSON for a read's freshness (ISO times), as every `--json` row carries it. */
export function freshnessJson(f: Freshness | undefined) {
  return {
    mode: f?.mode ?? 'cached',
    refreshedAt: f?.refreshedAt?.toISOString() ?? null,
    pendingChanges: f?.pendingChanges ?? 0,
    oldestPendingAt: f?.oldestPendingAt?.toISOString() ?? null,
  };
}

/** One line for people: when the cache was brought up to date, and what is pending for these rows. */
export function freshnessLine(each: Iterable<Freshness>): string {
  let refreshedAt: Date | null = null;
  let pending = 0;
  let oldest: Date | null = null;
  for (const f of each) {
    refreshedAt = f.refreshedAt;
    pending += f.pendingChanges;
    if (f.oldestPendingAt && (!oldest || f.oldestPendingAt < oldest)) oldest = f.oldestPendingAt;
  }
  const updated = refreshedAt
    ? `cache up to date as of ${refreshedAt.toISOString()}`
    : 'cache never refreshed';
  return pending > 0
    ? `${updated}; ${pending} change(s) pending for these rows, the oldest captured ${oldest?.toISOString()} (the next refresh applies them)`
    : `${updated}; nothing pending for these rows`;
}
