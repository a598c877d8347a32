/**
 * A platform's traffic while statcache is installed or upgraded under it: a writer inserting one
 * chat message per statement (as an app does, into random existing chats, the platform's own way),
 * and a reader paging the platform's session list and, once statcache is installed, its dashboard's
 * experiments page. Every operation is timed; the longest of each is what a user would have felt.
 * Used by `npm run bench:install` and by test/install-traffic.test.ts.
 */
import { sql } from 'drizzle-orm';
import { createDb, type NodePgStatDb } from '../src/db/create-db.js';
import { bigintArray } from '../src/db/params.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { checkSource } from '../src/source/check-source.js';
import { relationSql } from '../src/source/relation-sql.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { note } from './measure.js';
import { random } from './traffic.js';
import { writerFor } from './traffic-writers.js';

export interface TrafficWaits {
  writes: number;
  reads: number;
  longestWriteMs: number;
  longestReadMs: number;
  /** Reads that failed because statcache's tables were not there yet (before its migrations committed). */
  dashboardMisses: number;
}

const PAGE = 25;

/** Runs `during` while the writer and the reader run against `url`; stops them when it settles. */
export async function trafficDuring<T>(
  url: string,
  source: SourceProfile,
  during: () => Promise<T>,
): Promise<{ value: T; waits: TrafficWaits }> {
  const writerDb = createDb(url, { max: 1, applicationName: 'platform-writer' });
  const readerDb = createDb(url, { max: 1, applicationName: 'platform-reader' });
  const S = relationSql(source, 'sessions', 's');
  const chats = (
    await queryRows<{ c: unknown }>(writerDb, sql`select ${S.chatId} as c from ${S.from} order by ${S.id}`)
  ).map((r) => toNumber(r.c));
  const [team] = await queryRows<{ t: unknown; n: unknown }>(
    readerDb,
    sql`select ${S.teamId} as t, count(*) as n from ${S.from} group by 1 order by 2 desc limit 1`,
  );
  const teamId = toNumber(team?.t);
  const pages = Math.max(1, Math.floor(toNumber(team?.n) / PAGE));
  const waits: TrafficWaits = {
    writes: 0,
    reads: 0,
    longestWriteMs: 0,
    longestReadMs: 0,
    dashboardMisses: 0,
  };
  let stop = false;
  const rand = random(7);
  const writer = (async () => {
    const writes = writerFor(source);
    while (!stop) {
      const chat = chats[Math.floor(rand() * chats.length)] as number;
      const started = performance.now();
      await writerDb.execute(
        writes.messages(
          sql`unnest(${bigintArray([chat])}, ${sql.param(['human'])}::text[], ${sql.param([new Date().toISOString()])}::timestamptz[])`,
        ),
      );
      waits.longestWriteMs = Math.max(waits.longestWriteMs, performance.now() - started);
      waits.writes++;
    }
  })();
  const reader = (async () => {
    while (!stop) {
      const offset = Math.floor(rand() * pages) * PAGE;
      const started = performance.now();
      await readerDb.execute(
        sql`select ${S.id}, ${S.createdAt} from ${S.from} where ${S.teamId} = ${teamId}
            order by ${S.createdAt} desc limit ${PAGE} offset ${offset}`,
      );
      try {
        await listExperiments(readerDb, { teamId, limit: PAGE, source });
      } catch (error) {
        // Before statcache's tables exist (a fresh install) the dashboard has nothing to read.
        if ((error as { cause?: { code?: string } }).cause?.code !== '42P01') throw error;
        waits.dashboardMisses++;
      }
      waits.longestReadMs = Math.max(waits.longestReadMs, performance.now() - started);
      waits.reads++;
    }
  })();
  const settle = async () => {
    stop = true;
    const ended = await Promise.allSettled([writer, reader]);
    await writerDb.close();
    await readerDb.close();
    const failed = ended.find((end) => end.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };
  let value: T;
  try {
    value = await during();
  } catch (error) {
    await settle().catch(() => {});
    throw error;
  }
  await settle();
  return { value, waits };
}

/**
 * Drops every index of the platform's that statcache relies on (those not backing a constraint), so
 * that the install must build them all, concurrently, under the traffic. Returns their names.
 */
export async function dropIndexesStatcacheNeeds(db: NodePgStatDb, source: SourceProfile): Promise<string[]> {
  const dropped: string[] = [];
  for (const index of (await checkSource(db, source)).indexes) {
    if (index.index === null) continue;
    const [backing] = await queryRows<{ constraint: boolean }>(
      db,
      sql`select exists (select 1 from pg_constraint where conindid = ${index.index}::regclass) as constraint`,
    );
    if (backing?.constraint) continue;
    await db.execute(sql.raw(`drop index ${index.index}`));
    dropped.push(index.index);
  }
  note(`${source.name}: dropped ${dropped.length} platform indexes statcache needs (${dropped.join(', ')})`);
  return dropped;
}
