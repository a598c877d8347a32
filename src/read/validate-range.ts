/** Checks the time range passed to series helpers before it reaches SQL. */
import { InvalidInputError } from '../errors/error-classes.js';
import type { SeriesRange } from './series-types.js';

/** Throws InvalidInputError unless `from` and `to` are valid Dates with from < to. */
export function assertRange(range: SeriesRange): void {
  for (const name of ['from', 'to'] as const) {
    const value: unknown = range[name];
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new InvalidInputError(`${name} must be a valid Date (got '${String(value)}')`, name);
    }
  }
  if (range.from.getTime() >= range.to.getTime()) {
    throw new InvalidInputError(
      `from must be before to (got from ${range.from.toISOString()}, to ${range.to.toISOString()})`,
      'from',
    );
  }
}
