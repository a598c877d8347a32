/**
 * createDb's start-up parameters: statcache's own (jit off, statement_timeout) and any the URL's
 * `options` sets are all in force (pg let the URL's replace statcache's, so a DATABASE_URL with
 * `?options=` silently ran with JIT on and no statement timeout).
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/create-db.js';
import { queryRows } from '../src/db/types.js';
import { useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase();

async function settings(url: string, options: Parameters<typeof createDb>[1]) {
  const db = createDb(url, { max: 1, ...options });
  try {
    const [row] = await queryRows<{ jit: string; statement_timeout: string; work_mem: string }>(
      db,
      sql`select current_setting('jit') as jit, current_setting('statement_timeout') as statement_timeout,
                 current_setting('work_mem') as work_mem`,
    );
    return row;
  } finally {
    await db.close();
  }
}

describe('createDb start-up parameters', () => {
  it("keeps the URL's options beside statcache's", async () => {
    const url = `${t.url}?options=${encodeURIComponent('-c work_mem=8MB')}`;
    expect(await settings(url, { statementTimeoutMs: 1234 })).toEqual({
      jit: 'off',
      statement_timeout: '1234ms',
      work_mem: '8MB',
    });
  });

  it('sets no statement timeout for 0, and JIT on when asked', async () => {
    expect(await settings(t.url, { statementTimeoutMs: 0, jit: true })).toMatchObject({
      jit: 'on',
      statement_timeout: '0',
    });
  });
});
