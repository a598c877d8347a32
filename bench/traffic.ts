/**
 * Synthetic new traffic for the incremental benchmarks, inserted the way an app would: 1,000-row
 * statements, into the target's own tables (the statcache demo schema, or Open Chat Studio's with
 * every NOT NULL column filled as Django fills it).
 */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../src/db/params.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { relationSql } from '../src/source/relation-sql.js';
import type { BenchTarget } from './bench-database.js';
import { writerFor } from './traffic-writers.js';

export const INSERT_BATCH = 1_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Every session's chat id, to spread new messages over existing conversations. */
export async function sessionChats({ db, source }: BenchTarget): Promise<number[]> {
  const S = relationSql(source, 'sessions', 's');
  const rows = await queryRows<{ chat_id: unknown }>(
    db,
    sql`select ${S.chatId} as chat_id from ${S.from} order by ${S.id}`,
  );
  return rows.map((r) => toNumber(r.chat_id));
}

/** Deterministic pseudo-random numbers in [0, 1). */
export function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

/**
 * Inserts `count` messages (45% human) into random chats, at instants drawn by `at`, in statements
 * of INSERT_BATCH rows.
 */
export async function insertMessages(
  target: BenchTarget,
  chats: readonly number[],
  count: number,
  at: (rand: () => number) => Date,
  seed: number,
): Promise<void> {
  const rand = random(seed);
  const writer = writerFor(target.source);
  for (let done = 0; done < count; done += INSERT_BATCH) {
    const n = Math.min(INSERT_BATCH, count - done);
    const chatIds: number[] = [];
    const types: string[] = [];
    const times: string[] = [];
    for (let i = 0; i < n; i++) {
      chatIds.push(chats[Math.floor(rand() * chats.length)] as number);
      types.push(rand() < 0.45 ? 'human' : 'ai');
      times.push(at(rand).toISOString());
    }
    await target.db.execute(
      writer.messages(
        sql`unnest(${bigintArray(chatIds)}, ${sql.param(types)}::text[], ${sql.param(times)}::timestamptz[])`,
      ),
    );
  }
}

/**
 * New traffic in the seed's shape: `sessions` new sessions (each on the experiment, team and
 * platform of a random existing session, so experiment skew is kept) with `messages` messages spread
 * over them, everything created within the hour starting at `hourStart`. Returns the new chats.
 */
export async function insertNewSessions(
  target: BenchTarget,
  sessions: number,
  messages: number,
  hourStart: Date,
  seed: number,
): Promise<number[]> {
  const rand = random(seed);
  const chats = await insertSessionsInHour(target, sessions, hourStart, rand);
  // Messages follow their session's start, within the hour.
  await insertMessages(
    target,
    chats,
    messages,
    (r) => new Date(hourStart.getTime() + HOUR_MS * (0.5 + r() * 0.5)),
    seed + 1,
  );
  return chats;
}

/**
 * `sessions` new sessions, each on the team, experiment, participant and platform of a random
 * existing one, starting in the first half of the hour at `hourStart` (draws from `rand`: a template
 * then a start per session); in statements of INSERT_BATCH rows. Returns their chats, in order.
 */
export async function insertSessionsInHour(
  target: BenchTarget,
  sessions: number,
  hourStart: Date,
  rand: () => number,
): Promise<number[]> {
  const { db, source } = target;
  const S = relationSql(source, 'sessions', 's');
  const [range] = await queryRows<{ lo: unknown; hi: unknown }>(
    db,
    sql`select min(${S.id}) as lo, max(${S.id}) as hi from ${S.from}`,
  );
  const lo = toNumber(range?.lo);
  const hi = toNumber(range?.hi);
  const chats: number[] = [];
  for (let done = 0; done < sessions; done += INSERT_BATCH) {
    const n = Math.min(INSERT_BATCH, sessions - done);
    const templates: number[] = [];
    const times: string[] = [];
    for (let i = 0; i < n; i++) {
      templates.push(lo + Math.floor(rand() * (hi - lo + 1)));
      times.push(new Date(hourStart.getTime() + rand() * HOUR_MS * 0.5).toISOString());
    }
    const rows = await queryRows<{ chat_id: unknown }>(
      db,
      writerFor(source).sessions(sql`unnest(${bigintArray(templates)}, ${sql.param(times)}::timestamptz[])`),
    );
    chats.push(...rows.map((r) => toNumber(r.chat_id)));
  }
  return chats;
}

/** One new hour starting at `hourStart`. */
export const inHour = (hourStart: Date) => (rand: () => number) =>
  new Date(hourStart.getTime() + rand() * HOUR_MS);

/** Spread over the `days` before `end`. */
export const overPastDays = (end: Date, days: number) => (rand: () => number) =>
  new Date(end.getTime() - rand() * days * DAY_MS);
