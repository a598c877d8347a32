/**
 * Parsing of query and path parameters: each bad value is a 400 naming the parameter. Sort keys
 * come from the helpers' whitelists, so no user text reaches SQL except as a bound parameter.
 */

import { InvalidInputError } from '../errors/error-classes.js';
import { MAX_PAGE_LIMIT } from '../read/page-options.js';
import { INSTANT_RANGE, parseIsoInstant, yearOutOfRange } from '../time/iso-instant.js';

type Query = Record<string, unknown>;

/**
 * Rejects any query parameter the route does not take (a typo like `?sortt=` would otherwise be
 * ignored and answer something else than asked).
 */
export function acceptOnly(query: Query, route: string, names: readonly string[]): void {
  const unknown = Object.keys(query).find((name) => !names.includes(name));
  if (unknown === undefined) return;
  const takes = names.length > 0 ? `takes ${names.join(', ')}` : 'takes no parameters';
  throw new InvalidInputError(`unknown parameter '${unknown}': ${route} ${takes}`, unknown);
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidInputError(`${name} must be given once`, name);
  return value;
}

/** A positive whole-number id (path or query). */
export function parseId(value: string | undefined, name: string): number {
  if (value === undefined || !/^\d{1,15}$/.test(value) || Number(value) < 1)
    throw new InvalidInputError(`${name} must be a positive whole number (got '${value ?? ''}')`, name);
  return Number(value);
}

export function optionalId(query: Query, name: string): number | undefined {
  const value = single(query, name);
  return value === undefined || value === '' ? undefined : parseId(value, name);
}

export function idList(query: Query, name: string, max: number): number[] {
  const value = single(query, name);
  if (!value) throw new InvalidInputError(`${name} is required: comma-separated ids like 1,2,3`, name);
  const ids = value.split(',').map((part) => parseId(part.trim(), name));
  if (ids.length > max)
    throw new InvalidInputError(`${name} takes at most ${max} ids (got ${ids.length})`, name);
  return ids;
}

export function sortKey<K extends string>(query: Query, keys: readonly K[]): K | undefined {
  const value = single(query, 'sort');
  if (value === undefined || value === '') return undefined;
  if (!(keys as readonly string[]).includes(value))
    throw new InvalidInputError(`sort must be one of ${keys.join(', ')} (got '${value}')`, 'sort');
  return value as K;
}

export function order(query: Query): 'asc' | 'desc' | undefined {
  const value = single(query, 'order');
  if (value === undefined || value === '') return undefined;
  if (value !== 'asc' && value !== 'desc')
    throw new InvalidInputError(`order must be asc or desc (got '${value}')`, 'order');
  return value;
}

function whole(query: Query, name: string, min: number, max: number): number | undefined {
  const value = single(query, name);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max)
    throw new InvalidInputError(
      `${name} must be a whole number from ${min} to ${max} (got '${value}')`,
      name,
    );
  return Number(value);
}

export const limit = (query: Query) => whole(query, 'limit', 1, MAX_PAGE_LIMIT);
export const offset = (query: Query) => whole(query, 'offset', 0, Number.MAX_SAFE_INTEGER);

/** An ISO-8601 instant; `fallback` when absent. */
export function instant(query: Query, name: string, fallback: Date): Date {
  const value = single(query, name);
  if (value === undefined || value === '') return fallback;
  if (yearOutOfRange(value))
    throw new InvalidInputError(`${name} must be a date ${INSTANT_RANGE} (got '${value}')`, name);
  const date = parseIsoInstant(value);
  if (!date)
    throw new InvalidInputError(
      `${name} must be an ISO-8601 date like 2026-11-01T00:00:00Z (got '${value}')`,
      name,
    );
  return date;
}

/** A yes/no flag: `1` or `true`, `0` or `false`, absent is no. */
export function flag(query: Query, name: string): boolean {
  const value = single(query, name);
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new InvalidInputError(`${name} must be 1 or 0 (got '${value}')`, name);
}
