/**
 * Runs work on one connection of its own: a session-level lock or a temp table then covers exactly
 * that work. A node-postgres pool lends one of its connections for the duration; PGlite (and a
 * drizzle database on a single client) already is one connection.
 */
import { onConnections } from './on-connections.js';
import type { StatDb } from './types.js';

export function onOneConnection<T>(db: StatDb, fn: (conn: StatDb) => Promise<T>): Promise<T> {
  return onConnections(db, 1, (lanes) => fn(lanes[0] as StatDb));
}
