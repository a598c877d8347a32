/**
 * `node dist/bench/live-server.js` (DATABASE_URL): serves GET /api/experiments counted live from
 * the chat tables, without statcache, on a free loopback port, for bench:serve's cached-vs-live
 * comparison. Prints `serving on http://127.0.0.1:<port>/` on stderr, as `statcache serve` does, and
 * stops on SIGTERM/SIGINT. Benchmark-only: the shipped server always reads the cache.
 */
import type { Server } from 'node:http';
import express from 'express';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/create-db.js';
import { DEFAULT_PAGE_LIMIT } from '../src/read/page-options.js';
import { listExperimentsLive } from './live-experiments.js';

/** As `statcache serve`: concurrent requests each hold a connection for one statement. */
const POOL_SIZE = 10;

const config = loadConfig();
const db = createDb(config.databaseUrl, { max: POOL_SIZE, applicationName: 'statcache-bench-live' });
const app = express();
app.get('/api/experiments', async (req, res) => {
  const number = (name: string, fallback: number) => {
    const value = Number(req.query[name]);
    return Number.isInteger(value) && value >= 0 ? value : fallback;
  };
  const team = Number(req.query.team);
  res.json(
    await listExperimentsLive(db, {
      teamId: Number.isInteger(team) && team > 0 ? team : undefined,
      limit: number('limit', DEFAULT_PAGE_LIMIT),
      offset: number('offset', 0),
      excludedPlatforms: config.excludedPlatforms,
    }),
  );
});
const server: Server = await new Promise((resolve, reject) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
  s.once('error', reject);
});
const address = server.address();
process.stderr.write(
  `statcache: serving on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/ (live queries)\n`,
);
const stop = () => server.close(() => void db.close());
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
