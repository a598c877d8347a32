/**
 * Synchronising on state: polls a probe until it reports what a test needs (a lock in pg_locks, a
 * count, a job state), and fails naming what it waited for. The poll interval only paces the
 * probe; it never stands in for the state itself.
 */

/** How often a probe is asked again; short, since probes are cheap queries. */
const DEFAULT_INTERVAL_MS = 25;

/** What a probe's answer is once it counts as found. */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export interface WaitForOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** What is awaited, for the failure message: "a refresh batch in flight", "the queue to drain". */
  what: string;
  /** @defaultValue 25 */
  intervalMs?: number;
}

/**
 * Resolves with the probe's first truthy answer (so a probe can hand back what it found, e.g. a job
 * id); rejects with "timed out after N ms waiting for <what>" if none comes within `timeoutMs`.
 * A probe that throws fails the wait at once: an error is not a state to wait out.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs, what, intervalMs = DEFAULT_INTERVAL_MS }: WaitForOptions,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
