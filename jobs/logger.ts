/** pino JSON logs on stdout, one line per event, at LOG_LEVEL. */
import { type Logger, pino } from 'pino';
import type { LogLevel } from '../src/config.js';

export function createLogger(level: LogLevel, service = 'statcache-worker'): Logger {
  return pino({ level, base: { service, pid: process.pid } });
}
