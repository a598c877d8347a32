/** Argument parsers for commander options: each rejects bad input with a message naming the option. */
import { InvalidArgumentError } from 'commander';
import {
  INSTANT_RANGE,
  parseIsoInstant as parseStrictInstant,
  yearOutOfRange,
} from '../src/time/iso-instant.js';

const MAX_ID = Number.MAX_SAFE_INTEGER;

/** "1,2,3" → [1, 2, 3]; rejects empty items, non-numbers, zero and negatives. */
export function parseIdList(value: string): number[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) {
    throw new InvalidArgumentError(`expected comma-separated ids like 1,2,3 (got '${value}')`);
  }
  return items.map((item) => parseId(item, value));
}

/** One positive id. */
export function parseId(value: string, whole = value): number {
  if (!/^\d+$/.test(value))
    throw new InvalidArgumentError(
      `'${value}' is not an id; ids are positive whole numbers, like 42 (got '${whole}')`,
    );
  const id = Number(value);
  if (id < 1 || id > MAX_ID) throw new InvalidArgumentError(`id ${value} is out of range 1..${MAX_ID}`);
  return id;
}

/** A whole number within [min, max]. */
export function intInRange(min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max} (got '${value}')`);
    const n = Number(value);
    if (n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max} (got '${value}')`);
    return n;
  };
}

/** An ISO-8601 instant with a time zone, e.g. 2026-11-01T00:00:00Z; impossible dates are rejected. */
export function parseIsoInstant(value: string): Date {
  if (yearOutOfRange(value))
    throw new InvalidArgumentError(`expected a date ${INSTANT_RANGE} (got '${value}')`);
  const date = parseStrictInstant(value);
  if (!date)
    throw new InvalidArgumentError(`expected an ISO-8601 date like 2026-11-01T00:00:00Z (got '${value}')`);
  return date;
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')} (got '${value}')`);
    }
    return value as T;
  };
}

/** PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) and silently drops the rest. */
const MAX_NAME_BYTES = 63;

/** A role name as PostgreSQL stores it: 1 to 63 bytes, no NUL (it is quoted wherever it is used). */
export function parseRoleName(value: string): string {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes === 0 || bytes > MAX_NAME_BYTES || value.includes('\0'))
    throw new InvalidArgumentError(
      `expected a role name of 1 to ${MAX_NAME_BYTES} bytes without NUL (got ${bytes} bytes: '${value.slice(0, 80)}')`,
    );
  return value;
}
