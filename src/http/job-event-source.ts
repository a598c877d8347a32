/**
 * What the metrics need from a job queue, as an interface the server is handed: the library does
 * not depend on the queue (jobs/job-events.ts implements it over BullMQ's QueueEvents).
 */

/** A job attempt that completed, with how long it ran. */
export interface JobFinishedEvent {
  job: string;
  durationSeconds: number;
}

/** A job attempt that failed; `job` is 'unknown' when the job could no longer be read. */
export interface JobFailedEvent {
  job: string;
}

/** Job completions and failures as they happen, from whichever processes run the jobs. */
export interface JobEventSource {
  onJobFinished(listener: (event: JobFinishedEvent) => void): void;
  onJobFailed(listener: (event: JobFailedEvent) => void): void;
  /** Stops listening and releases the connection. */
  close(): Promise<void>;
}
