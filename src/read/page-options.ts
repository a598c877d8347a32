/**
 * Sorting and paging options shared by listExperiments and listSessions. Sort keys map through a
 * whitelist to SQL expressions: no caller text ever reaches SQL except as a bound parameter.
 */
import { type SQL, sql } from 'drizzle-orm';
import { InvalidInputError } from '../errors/error-classes.js';

export type SortOrder = 'asc' | 'desc';
/** @defaultValue 25 */
export const DEFAULT_PAGE_LIMIT = 25;
/** Largest page a helper returns. */
export const MAX_PAGE_LIMIT = 1000;

export interface PageOptions<SortKey extends string> {
  sortBy?: SortKey;
  /** @defaultValue 'desc' for counts and times, 'asc' for name and id */
  order?: SortOrder;
  /** @defaultValue {@link DEFAULT_PAGE_LIMIT} */
  limit?: number;
  /** @defaultValue 0 */
  offset?: number;
}

export interface ResolvedPage {
  orderBy: SQL;
  limit: number;
  offset: number;
}

/**
 * Validates paging options against `columns` (sort key → SQL expression) and builds the ORDER BY:
 * the chosen column, nulls last, then `tieBreak` ascending so pages never overlap.
 */
export function resolvePage<SortKey extends string>(
  options: PageOptions<SortKey>,
  columns: Record<SortKey, { expression: SQL; defaultOrder: SortOrder }>,
  defaultSort: SortKey,
  tieBreak: SQL,
): ResolvedPage {
  const sortBy = options.sortBy ?? defaultSort;
  if (!Object.hasOwn(columns, sortBy)) {
    throw new InvalidInputError(
      `sortBy must be one of ${Object.keys(columns).join(', ')} (got '${String(sortBy)}')`,
    );
  }
  const column = columns[sortBy];
  const order = options.order ?? column.defaultOrder;
  if (order !== 'asc' && order !== 'desc') {
    throw new InvalidInputError(`order must be asc or desc (got '${String(order)}')`);
  }
  const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new InvalidInputError(
      `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT} (got '${String(limit)}')`,
    );
  }
  const offset = options.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidInputError(`offset must be a whole number, 0 or more (got '${String(offset)}')`);
  }
  const direction = order === 'asc' ? sql.raw('asc') : sql.raw('desc');
  return { orderBy: sql`${column.expression} ${direction} nulls last, ${tieBreak} asc`, limit, offset };
}
