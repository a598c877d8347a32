/** pino JSON logs on stdout, one line per event, at LOG_LEVEL. */
import { type Logger, pino } from 'pino';
import type { LogLevel } from '../src/config.js';

export function createLogger(level: LogLevel, service = 'statcache-worker'): Logger {
  return pino({ level, base: { service, pid: process.pid } });
}

/** Repeated connection errors are logged at most this often. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/** Logs an error event, but the same message at most once per interval (Redis retries every few ms). */
export function throttledErrorLog(logger: Logger, what: string): (error: Error) => void {
  let last = '';
  let at = 0;
  return (error) => {
    const now = Date.now();
    if (error.message === last && now - at < ERROR_LOG_INTERVAL_MS) return;
    last = error.message;
    at = now;
    logger.error({ error: error.message }, what);
  };
}
