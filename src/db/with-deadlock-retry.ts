/** Runs a transaction again when PostgreSQL rolled it back for a deadlock (see RETRYABLE_SQLSTATES). */
import { classifyError } from '../errors/error-kind.js';

/** Attempts before the error is passed on. */
export const MAX_TRANSACTION_ATTEMPTS = 5;
/** First backoff step; each attempt doubles it, with full jitter. */
const BASE_DELAY_MS = 20;

/** Runs `fn`, running it again (up to MAX_TRANSACTION_ATTEMPTS) when it fails with a retryable SQLSTATE. */
export async function withDeadlockRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= MAX_TRANSACTION_ATTEMPTS || classifyError(error) !== 'retryable') throw error;
      await new Promise((resolve) => setTimeout(resolve, BASE_DELAY_MS * 2 ** attempt * Math.random()));
    }
  }
}
