/** Retries a transaction that lost a serialization race (another refresh or a writer touched its rows). */

/** serialization_failure and deadlock_detected: the transaction rolled back and may simply run again. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);
/** Attempts before the error is passed on. */
export const MAX_TRANSACTION_ATTEMPTS = 5;
const BASE_DELAY_MS = 20;

/** Runs `fn`, running it again (up to MAX_TRANSACTION_ATTEMPTS) when it fails with a retryable SQLSTATE. */
export async function withSerializableRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= MAX_TRANSACTION_ATTEMPTS || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, BASE_DELAY_MS * 2 ** attempt * Math.random()));
    }
  }
}

function isRetryable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_SQLSTATES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
