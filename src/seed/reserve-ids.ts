/** Contiguous id ranges for a seed, so row i of a table gets id first + i - 1. */
import { sql } from 'drizzle-orm';
import { type Executor, queryRows, toNumber } from '../db/types.js';

/**
 * Reserves `count` consecutive ids from a table's id sequence (serial or identity); returns the
 * first. The caller holds an exclusive lock on the table, so no other writer takes ids meanwhile.
 */
export async function reserveIds(tx: Executor, table: string, count: number): Promise<number> {
  if (count === 0) return 1;
  const [row] = await queryRows<{ first: unknown }>(
    tx,
    sql`select nextval(pg_get_serial_sequence(${table}, 'id')) as first`,
  );
  const first = toNumber(row?.first);
  await tx.execute(sql`select setval(pg_get_serial_sequence(${table}, 'id'), ${first + count - 1})`);
  return first;
}
