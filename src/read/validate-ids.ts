/** Checks id arrays passed to read helpers before they reach SQL. */
import { InvalidInputError } from '../errors/error-classes.js';

/** Largest id a bigint column holds that JS numbers represent exactly. */
const MAX_ID = Number.MAX_SAFE_INTEGER;

/** Throws InvalidInputError unless every id is a positive safe integer. */
export function assertIds(ids: readonly number[], what: string): void {
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || id < 1 || id > MAX_ID) {
      throw new InvalidInputError(`${what} id must be a positive whole number (got '${String(id)}')`);
    }
  }
}
