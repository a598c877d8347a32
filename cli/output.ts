/** Printing: one JSON document on stdout with --json, aligned tables otherwise; logs go to stderr. */

/** Writes `value` as the command's single JSON document. Dates become ISO-8601 UTC strings. */
import type { Freshness } from '../src/read/freshness.js';
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes `value` as one JSON line (a long-running command's events, beside pino's log lines). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
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

/** JSON for an answer's freshness (ISO times), as every `--json` row carries it. */
export function freshnessJson(f: Freshness) {
  return {
    mode: f.mode,
    refreshedAt: f.refreshedAt?.toISOString() ?? null,
    pendingChanges: f.pendingChanges,
    oldestPendingAt: f.oldestPendingAt?.toISOString() ?? null,
    fellBack: f.fellBack,
  };
}

/** One line for people: how the answer was computed, and what is pending for it. */
export function freshnessLine(f: Freshness): string {
  if (f.mode === 'live')
    return 'counted live: the cache was never built (the worker or `statcache refresh` builds it)';
  const updated = f.refreshedAt
    ? `cache up to date as of ${f.refreshedAt.toISOString()}`
    : 'cache never refreshed';
  if (f.mode === 'fresh')
    return f.pendingChanges > 0
      ? `exact now: ${f.pendingChanges} pending change(s) recounted from source (${updated})`
      : `exact now: nothing pending (${updated})`;
  const fell = f.fellBack
    ? ` (not recounted: more than STATCACHE_FRESH_MAX_PENDING pending; the next refresh applies them)`
    : ' (the next refresh applies them; --fresh counts them now)';
  return f.pendingChanges > 0
    ? `${updated}; ${f.pendingChanges} change(s) pending for these rows, the oldest captured ${f.oldestPendingAt?.toISOString()}${fell}`
    : `${updated}; nothing pending for these rows`;
}
