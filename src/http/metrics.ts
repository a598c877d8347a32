/**
 * Prometheus metrics (prom-client) at /metrics: HTTP latency, and, read at scrape time, the database
 * pool's connections, idle connections and waiting requests (node-postgres pools only), the cache's
 * lag, pending changes and bucket counts per size; job durations and failures from the job events
 * the server is handed (none without a queue). With a read replica the cache's gauges are its view
 * (what the dashboard's answers reflect), beside its own pool and its lag behind the primary.
 */
import type { Pool } from 'pg';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StatDb } from '../db/types.js';
import { getReplicaStatus } from '../status/get-replica-status.js';
import { type CacheStatus, getStatus } from '../status/get-status.js';
import type { JobEventSource } from './job-event-source.js';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Closes the job event source it was given, if any. */
  close(): Promise<void>;
}

export interface MetricsOptions {
  /**
   * The read replica the server reads from (DATABASE_READ_URL): the cache's gauges are read there,
   * and its pool and statcache_replica_lag_seconds are added. @defaultValue none
   */
  replica?: { db: StatDb; target: string };
}

/** The metrics registry for `db`; job durations and failures are counted from `jobEvents` when given. */
export function createMetrics(db: StatDb, jobEvents?: JobEventSource, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const httpDuration = new Histogram({
    name: 'statcache_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Registered before the gauges that run a statement, so a scrape reads the pool before its own
  // getStatus statement asks it for a connection.
  poolGauges(registry, poolOf(db), 'statcache_db_pool', 'the database pool');
  const { replica } = options;
  if (replica) {
    poolGauges(registry, poolOf(replica.db), 'statcache_replica_pool', "the read replica's pool");
    new Gauge({
      name: 'statcache_replica_lag_seconds',
      help: 'How far the read replica is behind its primary: 0 caught up, else the age of the last transaction it replayed (NaN: none replayed yet)',
      registers: [registry],
      async collect() {
        this.set((await getReplicaStatus(replica.db, replica.target)).lagSeconds ?? Number.NaN);
      },
    });
  }
  const cacheDb = replica?.db ?? db;
  // One getStatus statement per scrape feeds all three gauges (collected in parallel).
  let scrape: { at: number; status: Promise<CacheStatus> } | null = null;
  const status = () => {
    if (!scrape || Date.now() - scrape.at > 1_000) scrape = { at: Date.now(), status: getStatus(cacheDb) };
    return scrape.status;
  };
  new Gauge({
    name: 'statcache_lag_seconds',
    help: 'Age of the oldest pending change',
    registers: [registry],
    async collect() {
      this.set((await status()).pending.lagSeconds);
    },
  });
  new Gauge({
    name: 'statcache_pending_changes',
    help: 'Change rows waiting for a refresh',
    registers: [registry],
    async collect() {
      this.set((await status()).pending.count);
    },
  });
  new Gauge({
    name: 'statcache_buckets',
    help: 'Bucket rows by table and size',
    labelNames: ['table', 'size'] as const,
    registers: [registry],
    async collect() {
      for (const b of (await status()).buckets) {
        this.set({ table: 'experiment', size: b.size }, b.experimentBuckets);
        this.set({ table: 'session', size: b.size }, b.sessionBuckets);
      }
    },
  });
  const jobDuration = new Histogram({
    name: 'statcache_job_duration_seconds',
    help: 'Job run time by job name (completed jobs)',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const jobFailures = new Counter({
    name: 'statcache_job_failures_total',
    help: 'Failed job attempts by job name',
    labelNames: ['job'] as const,
    registers: [registry],
  });
  jobEvents?.onJobFinished(({ job, durationSeconds }) => jobDuration.observe({ job }, durationSeconds));
  jobEvents?.onJobFailed(({ job }) => jobFailures.inc({ job }));
  return {
    registry,
    httpDuration,
    close: async () => {
      await jobEvents?.close();
    },
  };
}

/** `<prefix>_connections`, `_idle` and `_waiting` of `pool`, when it is a node-postgres pool. */
function poolGauges(registry: Registry, pool: PoolCounts | null, prefix: string, what: string): void {
  if (!pool) return;
  new Gauge({
    name: `${prefix}_connections`,
    help: `Connections ${what} holds (busy and idle)`,
    registers: [registry],
    collect() {
      this.set(pool.totalCount);
    },
  });
  new Gauge({
    name: `${prefix}_idle`,
    help: `Idle connections in ${what}`,
    registers: [registry],
    collect() {
      this.set(pool.idleCount);
    },
  });
  new Gauge({
    name: `${prefix}_waiting`,
    help: `Requests queued for a connection of ${what} (every connection busy)`,
    registers: [registry],
    collect() {
      this.set(pool.waitingCount);
    },
  });
}

/** The counts a node-postgres pool keeps. */
type PoolCounts = Pick<Pool, 'totalCount' | 'idleCount' | 'waitingCount'>;

/** The node-postgres pool under `db` (`db.$client`), or null for any other client (PGlite, one pg.Client). */
function poolOf(db: StatDb): PoolCounts | null {
  const client = (db as { $client?: unknown }).$client as Partial<PoolCounts> | undefined;
  return typeof client?.totalCount === 'number' &&
    typeof client.idleCount === 'number' &&
    typeof client.waitingCount === 'number'
    ? (client as PoolCounts)
    : null;
}
