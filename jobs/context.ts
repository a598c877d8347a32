/** What every job handler gets: the database, the configuration and the logger. */
import type { Logger } from 'pino';
import type { StatcacheConfig } from '../src/config.js';
import type { StatDb } from '../src/db/types.js';

export interface JobContext {
  db: StatDb;
  config: StatcacheConfig;
  logger: Logger;
}
