/** pino JSON logs on stdout, one line per event, at LOG_LEVEL. */
import { type Logger, pino } from 'pino';
import type { LogLevel } from '../src/config.js';

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'statcache-worker', pid: process.pid } });
}
