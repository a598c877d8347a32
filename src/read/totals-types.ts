/** Shapes the read helpers return. Counts are numbers, times are Dates (UTC instants) or null. */

export interface ExperimentTotals {
  /** Counted sessions (excluded platforms left out). */
  sessions: number;
  /** Distinct participants with a counted session. */
  participants: number;
  /** Human messages in counted sessions. */
  humanMessages: number;
  /** Latest such human message, or null. */
  lastActivityAt: Date | null;
}

export interface SessionTotals {
  humanMessages: number;
  lastActivityAt: Date | null;
  /** cached_experiment_versions, in natural order. */
  experimentVersions: string[];
}

/** A page of rows plus the number of rows across all pages. */
export interface Page<Row> {
  rows: Row[];
  total: number;
}
