/**
 * What the indexes `migrate` added to the platform's message table cost its writers: 200,000 message
 * inserts (1,000-row statements, as the capture-overhead rounds) with those indexes and without them
 * (dropped before the round, rebuilt after it, outside the timing), alternating, capture on in both.
 * Empty when statcache added no index there (the statcache demo schema has what it needs).
 */
import { sql } from 'drizzle-orm';
import { queryRows } from '../src/db/types.js';
import { DEFAULT_SEED_UNTIL } from '../src/seed/seed-workload.js';
import type { BenchTarget } from './bench-database.js';
import { formatMs, median, note, timed } from './measure.js';
import { inHour, insertMessages, sessionChats } from './traffic.js';

const ROWS = 200_000;

export interface IndexCostFigures {
  /** `CREATE INDEX` statements of the indexes statcache added to the message table. */
  indexes: string[];
  withMs: number[];
  withoutMs: number[];
}

export async function runIndexCostSuite(target: BenchTarget, rounds: number): Promise<IndexCostFigures> {
  const { db, source } = target;
  const added = await queryRows<{ name: string; def: string }>(
    db,
    sql`select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as def from pg_index
        where indrelid = to_regclass(quote_ident(${source.schema}) || '.' || quote_ident(${source.messages.table}))
          and indexrelid::regclass::text like 'statcache\\_%'
        order by 1`,
  );
  const figures: IndexCostFigures = { indexes: added.map((i) => i.def), withMs: [], withoutMs: [] };
  if (added.length === 0) return figures;
  const chats = await sessionChats(target);
  // After every earlier round's hours, so these rows land in an hour of their own.
  const hour = new Date(DEFAULT_SEED_UNTIL.getTime() + 24 * 3_600_000);
  const insertRound = async (withIndexes: boolean, seed: number) => {
    if (!withIndexes) for (const i of added) await db.execute(sql.raw(`drop index ${i.name}`));
    await db.execute(sql`checkpoint`);
    const ms = (await timed(() => insertMessages(target, chats, ROWS, inHour(hour), seed))).ms;
    if (!withIndexes) for (const i of added) await db.execute(sql.raw(i.def));
    (withIndexes ? figures.withMs : figures.withoutMs).push(ms);
  };
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? [false, true] : [true, false];
    for (const withIndexes of order) await insertRound(withIndexes, (withIndexes ? 400 : 300) + round);
    note(
      `round ${round}: 200k inserts without statcache's message indexes ${formatMs(figures.withoutMs.at(-1) as number)}, with ${formatMs(figures.withMs.at(-1) as number)}`,
    );
    await db.execute(sql`truncate statcache_changes`);
  }
  note(
    `statcache's message indexes cost inserts ${((median(figures.withMs) / median(figures.withoutMs) - 1) * 100).toFixed(1)}%`,
  );
  return figures;
}
