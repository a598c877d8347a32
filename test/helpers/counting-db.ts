/**
 * A createDb-like database whose pool counts the statements it sends to PostgreSQL, so tests can
 * assert that a read helper costs a fixed number of queries whatever the page size.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { StatDb } from '../../src/db/types.js';

export interface CountingDb {
  db: StatDb;
  /** Statements sent since the last reset. */
  count(): number;
  reset(): void;
  close(): Promise<void>;
}

export function createCountingDb(url: string): CountingDb {
  let statements = 0;
  class CountingPool extends pg.Pool {
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloaded query signature is passed through untouched.
    override query(...args: any[]): any {
      statements += 1;
      // biome-ignore lint/suspicious/noExplicitAny: see above.
      return (super.query as any)(...args);
    }
  }
  const pool = new CountingPool({ connectionString: url, max: 2 });
  return {
    db: drizzle({ client: pool }),
    count: () => statements,
    reset: () => {
      statements = 0;
    },
    close: () => pool.end(),
  };
}
