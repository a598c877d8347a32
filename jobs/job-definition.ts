/**
 * What a statcache job is: its name, its schedule, its payload, its handler and how
 * `statcache enqueue` runs it. Each job is one file exporting one definition; jobs/registry.ts lists
 * them, and everything else (the worker, the schedulers, status, enqueue) reads them from there.
 */
import type { WorkerConfig } from '../src/config.js';
import type { JobContext } from './context.js';

/** What every handler returns; the worker logs it as the job's one line and BullMQ keeps it. */
export interface JobSummary {
  bucketsWritten: number;
  changesProcessed: number;
  [detail: string]: unknown;
}

/** When the job's scheduler runs it: a fixed interval, or a 5-field cron pattern read in UTC. */
export type JobSchedule = { every: number } | { pattern: string };

/** What `--experiment ids` means to a job, or why it takes none. */
export type ExperimentsOption<TPayload> =
  | {
      accepted: true;
      /** The option's help for this job, e.g. "check these instead of a sample". */
      help: string;
      /** The payload of a run limited to these experiments (sorted, without duplicates). */
      payload(experimentIds: number[]): TPayload;
    }
  | {
      accepted: false;
      /** The InvalidInputError message `enqueue <job> --experiment` exits 2 with. */
      refusal: string;
    };

/** How `statcache enqueue` names the job and what it does with `--experiment`. */
export interface EnqueueSpec<TPayload> {
  /** The word after `statcache enqueue` (`verify` runs `verify-sample`). */
  argument: string;
  experiments: ExperimentsOption<TPayload>;
}

/** One job (graphile-worker's `Task<TName>`: the payload type belongs to the name). */
export interface JobDefinition<TName extends string, TPayload extends object> {
  /** The BullMQ job name, and its scheduler's id. */
  readonly name: TName;
  /** Its schedule, from the worker configuration. */
  readonly schedule: (config: WorkerConfig) => JobSchedule;
  /** The payload of a scheduled run, and of a manual one without `--experiment`. */
  readonly defaultPayload: TPayload;
  readonly enqueue: EnqueueSpec<TPayload>;
  /** Runs the job once; a throw is a failed attempt (retried or not, as src/errors/error-kind.ts says). */
  readonly handle: (ctx: JobContext, payload: TPayload) => Promise<JobSummary>;
}
