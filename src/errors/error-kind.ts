/**
 * The one place that decides what an error means. Every failure falls into one kind; the CLI's exit
 * code, a job's retry-or-fail and an HTTP status are three readings of that kind (OUTCOMES), so a
 * new error class is classified once, here, for all three.
 */
import {
  ConfigError,
  DatabaseUnreachableError,
  InvalidInputError,
  LockTimeoutError,
  NotFoundError,
  RedisUnreachableError,
  SchemaNotMigratedError,
  SourceMismatchError,
  SourceProfileError,
  StatementTimeoutError,
} from './error-classes.js';

export type ErrorKind =
  | 'bad-input'
  | 'bad-config'
  | 'not-found'
  | 'not-migrated'
  | 'unreachable'
  | 'retryable'
  | 'internal';

/** What each kind means to each entry point. */
export interface ErrorOutcome {
  /** The CLI's exit code: 2 for bad usage (options, ids, dates, configuration), 1 for anything else. */
  exitCode: 1 | 2;
  /** The HTTP status the dashboard answers with. */
  httpStatus: number;
  /** Whether a job that failed this way is worth another attempt (else BullMQ's UnrecoverableError). */
  retryJob: boolean;
}

export const OUTCOMES: Readonly<Record<ErrorKind, ErrorOutcome>> = {
  'bad-input': { exitCode: 2, httpStatus: 400, retryJob: false },
  'bad-config': { exitCode: 2, httpStatus: 500, retryJob: false },
  'not-found': { exitCode: 2, httpStatus: 404, retryJob: false },
  // Fails the same way on every attempt until someone runs `statcache migrate`.
  'not-migrated': { exitCode: 1, httpStatus: 500, retryJob: false },
  // The server may be back by the next attempt.
  unreachable: { exitCode: 1, httpStatus: 500, retryJob: true },
  retryable: { exitCode: 1, httpStatus: 500, retryJob: true },
  internal: { exitCode: 1, httpStatus: 500, retryJob: true },
};

/**
 * SQLSTATEs after which the transaction rolled back and may simply run again, each with why it
 * happens to statcache.
 */
export const RETRYABLE_SQLSTATES: Readonly<Record<string, string>> = {
  // Two transactions locked the same rows in different orders (a refresh and a writer, or two
  // refreshes meeting on session rows); PostgreSQL rolled one of them back.
  '40P01': 'deadlock_detected',
  // statcache's transactions run READ COMMITTED, where this never happens, but a database whose
  // default_transaction_isolation is repeatable read or serializable runs them at that level.
  '40001': 'serialization_failure',
};

/** Driver error codes (node's and PostgreSQL's) that mean the server could not be reached. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
  '3D000', // invalid_catalog_name (the database does not exist)
  '57P03', // cannot_connect_now (starting up, shutting down)
]);

/**
 * Driver errors that carry no code but mean the connection failed, known by their message (pg
 * sets no code on these), each with what it means in a message.
 */
const UNREACHABLE_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Connection terminated due to connection timeout$/, 'no answer within the connect timeout'],
  [/^timeout exceeded when trying to connect$/, 'no answer within the connect timeout'],
  // pg's own connect timeout destroys the socket with this error (client.js).
  [/^timeout expired$/, 'no answer within the connect timeout'],
  [
    /^Connection terminated unexpectedly$/,
    'the server closed the connection: is it PostgreSQL, and is it running?',
  ],
];

/** How far down `.cause` (and AggregateError's `errors`) a code is looked for. */
const MAX_CAUSE_DEPTH = 5;

/**
 * The first error code on `error` or its causes: a SQLSTATE or a node error code. drizzle wraps
 * driver errors in `cause`; an AggregateError (IPv4 and IPv6 attempts) holds them in `errors`.
 */
export function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < MAX_CAUSE_DEPTH; depth++) {
    const candidate = e as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof candidate.code === 'string') return candidate.code;
    e =
      Array.isArray(candidate.errors) && candidate.errors.length > 0 ? candidate.errors[0] : candidate.cause;
  }
  return undefined;
}

/**
 * What a codeless connection failure on `error` or its causes means (see UNREACHABLE_MESSAGES),
 * or undefined when it is none.
 */
export function connectionFailureReason(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < MAX_CAUSE_DEPTH; depth++) {
    const message = e instanceof Error ? e.message : undefined;
    const known = message === undefined ? undefined : UNREACHABLE_MESSAGES.find(([re]) => re.test(message));
    if (known) return known[1];
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether `code` means the server could not be reached (see UNREACHABLE_CODES). */
export function isUnreachableCode(code: string | undefined): boolean {
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

/** The kind of `error`. */
export function classifyError(error: unknown): ErrorKind {
  if (error instanceof InvalidInputError) return 'bad-input';
  if (
    error instanceof ConfigError ||
    error instanceof SourceProfileError ||
    error instanceof SourceMismatchError
  )
    return 'bad-config';
  if (error instanceof NotFoundError) return 'not-found';
  if (error instanceof SchemaNotMigratedError) return 'not-migrated';
  if (error instanceof DatabaseUnreachableError || error instanceof RedisUnreachableError)
    return 'unreachable';
  const code = errorCode(error);
  if (isUnreachableCode(code) || connectionFailureReason(error) !== undefined) return 'unreachable';
  if (code !== undefined && code in RETRYABLE_SQLSTATES) return 'retryable';
  // Another session's transaction held the table every attempt: worth trying again later.
  if (error instanceof LockTimeoutError) return 'retryable';
  // A busy moment (a lock held, a cold cache) may have made it slow: worth another attempt.
  if (error instanceof StatementTimeoutError) return 'retryable';
  return 'internal';
}

/** What `error` means to the CLI, the jobs and HTTP. */
export function outcomeOf(error: unknown): ErrorOutcome {
  return OUTCOMES[classifyError(error)];
}
