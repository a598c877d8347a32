/** Strict ISO-8601 instants: a date (UTC midnight) or a date-time with a zone; impossible dates rejected. */

/** The instant `value` names, or null if it is not a strict, possible ISO-8601 instant. */
export function parseIsoInstant(value: string): Date | null {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(
      value,
    );
  if (!match || yearOutOfRange(value)) return null;
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

/** The years statcache accepts in an instant: PostgreSQL has no year 0, and JavaScript reads years 0–99 as 19xx. */
export const INSTANT_YEARS = { min: 1970, max: 9999 } as const;

/** "between 1970-01-01 and 9999-12-31": the accepted range, for messages. */
export const INSTANT_RANGE = `between ${INSTANT_YEARS.min}-01-01 and ${INSTANT_YEARS.max}-12-31`;

/** Whether `value` is shaped like an instant but its year lies outside INSTANT_YEARS. */
export function yearOutOfRange(value: string): boolean {
  const year = /^(\d{4})-/.exec(value)?.[1];
  return year !== undefined && (Number(year) < INSTANT_YEARS.min || Number(year) > INSTANT_YEARS.max);
}
