/** Printing: one JSON document on stdout with --json, aligned tables otherwise; logs go to stderr. */

/** Writes `value` as the command's single JSON document. Dates become ISO-8601 UTC strings. */
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
