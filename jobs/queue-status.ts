/** The queue's part of `statcache status`: schedulers, job counts and each job's last run. */
import type { StatcacheQueue } from './queue.js';
import { JOB_NAMES, type JobName } from './registry.js';

export interface SchedulerStatus {
  job: string;
  every: number | null;
  pattern: string | null;
  nextRunAt: Date | null;
}

export interface LastRun {
  job: JobName;
  id: string | null;
  result: 'completed' | 'failed';
  finishedAt: Date | null;
  durationMs: number | null;
  /** The handler's summary, or the failure message. */
  detail: unknown;
}

export interface QueueStatus {
  prefix: string;
  schedulers: SchedulerStatus[];
  counts: { waiting: number; active: number; delayed: number; failed: number; completed: number };
  lastRuns: LastRun[];
}

/** Finished jobs scanned for each job's last run (finished jobs are kept by count and age). */
const RECENT_FINISHED = 200;

export async function getQueueStatus(queue: StatcacheQueue, prefix: string): Promise<QueueStatus> {
  const [schedulers, counts, finished] = await Promise.all([
    queue.getJobSchedulers(0, -1, true),
    queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
    queue.getJobs(['completed', 'failed'], 0, RECENT_FINISHED - 1, false),
  ]);
  const lastRuns: LastRun[] = [];
  for (const name of JOB_NAMES) {
    const latest = finished
      .filter((job) => job.name === name && job.finishedOn)
      .sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0))[0];
    if (!latest) continue;
    const failed = Boolean(latest.failedReason) && latest.returnvalue == null;
    lastRuns.push({
      job: name,
      id: latest.id ?? null,
      result: failed ? 'failed' : 'completed',
      finishedAt: latest.finishedOn ? new Date(latest.finishedOn) : null,
      durationMs: latest.processedOn && latest.finishedOn ? latest.finishedOn - latest.processedOn : null,
      detail: failed ? latest.failedReason : latest.returnvalue,
    });
  }
  return {
    prefix,
    schedulers: schedulers.map((s) => ({
      job: s.name,
      every: s.every ?? null,
      pattern: s.pattern ?? null,
      nextRunAt: s.next ? new Date(s.next) : null,
    })),
    counts: {
      waiting: counts.waiting ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
    },
    lastRuns,
  };
}
