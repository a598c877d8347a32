/** Strict ISO-8601 instants: a date (UTC midnight) or a date-time with a zone; impossible dates rejected. */

/** The instant `value` names, or null if it is not a strict, possible ISO-8601 instant. */
export function parseIsoInstant(value: string): Date | null {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(
      value,
    );
  if (!match) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', zone] = match;
  if (value.length > 10 && zone === undefined) return null;
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  const valid =
    !Number.isNaN(date.getTime()) &&
    Number(mo) >= 1 &&
    Number(mo) <= 12 &&
    Number(d) >= 1 &&
    Number(d) <= new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate() &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(s) <= 59;
  return valid ? date : null;
}
