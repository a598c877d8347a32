/**
 * Where an incremental refresh spends its time: every statement node-postgres sends while `record`
 * runs is timed (send to result) and filed under the refresh step its text belongs to. Bench-only:
 * it wraps pg.Client.prototype.query for the duration and puts it back.
 */
import pg from 'pg';

/**
 * Refresh steps, by how their statements begin (src/refresh/*.ts); the first match wins and a
 * statement matching none is bookkeeping (the queue's top, the run's record, BEGIN/COMMIT apart).
 */
const STEPS: [string, RegExp][] = [
  ['claim', /^\s*(create temp table statcache_claimed|select coalesce\(sum\(n\), 0\) as changes)/],
  ['locks', /^\s*select statcache_lock_experiments/],
  ['participant firsts', /^\s*with pairs as/],
  ['session buckets', /^\s*with (gone|source|keys) as/],
  ['experiment buckets and totals', /^\s*with pending_sessions as/],
  ['versions', /^\s*with\s+(scope|added) as/],
  ['commit', /^\s*(commit|begin)\s*$/i],
];

export const STEP_NAMES = [...STEPS.map(([name]) => name), 'bookkeeping'];

/** The step of a statement, by its text after any leading `--` comment lines. */
const stepOf = (text: string) => {
  const body = text.replace(/^(\s*--[^\n]*\n)+/, '');
  return STEPS.find(([, re]) => re.test(body))?.[0] ?? 'bookkeeping';
};

/** Runs `fn`, returning its value and the milliseconds its statements took per step. */
export async function timeSteps<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; steps: Record<string, number> }> {
  const steps: Record<string, number> = Object.fromEntries(STEP_NAMES.map((n) => [n, 0]));
  const original = pg.Client.prototype.query;
  const patched = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    const started = process.hrtime.bigint();
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) {
      const step = stepOf(text);
      result.then(
        () => {
          steps[step] = (steps[step] ?? 0) + Number(process.hrtime.bigint() - started) / 1e6;
        },
        () => {},
      );
    }
    return result;
  };
  pg.Client.prototype.query = patched as typeof original;
  try {
    const value = await fn();
    return { value, steps };
  } finally {
    pg.Client.prototype.query = original;
  }
}
