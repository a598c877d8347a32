/** The queue and its jobs. */

/** One queue holds every statcache job; the key prefix comes from configuration. */
export const QUEUE_NAME = 'statcache';

export const JOB_NAMES = ['refresh', 'compress', 'verify-sample'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** What a job may carry: manual runs (`statcache enqueue … --experiment`) name experiments. */
export interface JobData {
  experimentIds?: number[];
}

/** What every handler returns; the worker logs it as the job's one line and BullMQ keeps it. */
export interface JobSummary {
  bucketsWritten: number;
  changesProcessed: number;
  [detail: string]: unknown;
}
