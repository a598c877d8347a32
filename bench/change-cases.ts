/**
 * The changes an incremental refresh is compared on (against TimescaleDB's continuous aggregates in
 * issue 18, against the previous release here): a new hour of traffic, late messages, deleted human
 * messages. Each writes its change the way an app would, in 1,000-row statements, into the target's
 * own tables; none is timed here.
 */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../src/db/params.js';
import { relationSql } from '../src/source/relation-sql.js';
import type { BenchTarget } from './bench-database.js';
import { INSERT_BATCH, insertMessages, insertSessionsInHour, overPastDays, random } from './traffic.js';
import { writerFor } from './traffic-writers.js';

const HOUR_MS = 3_600_000;
export const NEW_HOUR_SESSIONS = 500;
export const NEW_HOUR_MESSAGES_PER_SESSION = 20;
export const LATE_MESSAGES = 1_000;
export const LATE_DAYS = 90;
export const DELETED_HUMAN_MESSAGES = 1_000;

/**
 * 500 new sessions (each on the team, experiment, participant and platform of a random existing
 * one) starting in the hour at `hourStart`, with 20 messages each inside that hour alternating
 * human and AI (half human), every AI reply tagged with a version as the platform tags it.
 */
export async function writeNewHour(target: BenchTarget, hourStart: Date, seed: number): Promise<void> {
  const rand = random(seed);
  const { db, source } = target;
  const writer = writerFor(source);
  const chats = await insertSessionsInHour(target, NEW_HOUR_SESSIONS, hourStart, rand);
  const all: { chat: number; type: string; at: string }[] = [];
  for (const chat of chats)
    for (let k = 0; k < NEW_HOUR_MESSAGES_PER_SESSION; k++)
      all.push({
        chat,
        type: k % 2 === 0 ? 'human' : 'ai',
        at: new Date(
          hourStart.getTime() + HOUR_MS * (0.5 + (k + rand()) / (2 * NEW_HOUR_MESSAGES_PER_SESSION)),
        ).toISOString(),
      });
  for (let done = 0; done < all.length; done += INSERT_BATCH) {
    const part = all.slice(done, done + INSERT_BATCH);
    await db.execute(
      writer.messages(
        sql`unnest(${bigintArray(part.map((m) => m.chat))}, ${sql.param(part.map((m) => m.type))}::text[], ${sql.param(part.map((m) => m.at))}::timestamptz[])`,
      ),
    );
  }
  await db.execute(writer.tagAiReplies(bigintArray(chats)));
}

/** 1,000 messages (45% human) into random existing chats, at random instants of the 90 days before `end`. */
export function writeLate(target: BenchTarget, chats: readonly number[], end: Date, seed: number) {
  return insertMessages(target, chats, LATE_MESSAGES, overPastDays(end, LATE_DAYS), seed);
}

/** Deletes 1,000 human messages picked by a hash of their id (a different set for each seed). */
export async function deleteHuman(target: BenchTarget, seed: number): Promise<void> {
  const M = relationSql(target.source, 'messages', 'm');
  await target.db.execute(sql`
    delete from ${M.table} where ${sql.raw(quotedColumn(target, 'id'))} in (
      select ${M.id} from ${M.from} where ${M.type} = 'human'
      order by hashint8extended(${M.id}, ${seed}) limit ${DELETED_HUMAN_MESSAGES})`);
}

const quotedColumn = (target: BenchTarget, key: 'id') =>
  `"${target.source.messages[key].replaceAll('"', '""')}"`;
