/**
 * Parsers of single environment values for src/config.ts: each returns the value or throws a
 * ConfigError naming the variable, the bad value (never a secret) and a good example.
 */
import { ConfigError } from './errors/error-classes.js';

export function parseUrl(variable: string, value: string, protocols: string[], example: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, withoutPassword(value), `is not a URL; example: ${example}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(
      variable,
      withoutPassword(value),
      `must start with ${protocols.map((p) => `${p}//`).join(' or ')}; example: ${example}`,
    );
  }
  return value;
}

/** DATABASE_READ_URL: a read replica's postgres:// URL, or null when unset or empty (no replica). */
export function parseDatabaseReadUrl(value: string | undefined): string | null {
  const url = value?.trim();
  return url
    ? parseUrl(
        'DATABASE_READ_URL',
        url,
        ['postgres:', 'postgresql:'],
        'postgres://postgres@replica:5432/postgres',
      )
    : null;
}

/**
 * REDIS_URL: a redis:// or rediss:// URL whose path, if any, is a database number (`/2`); ioredis
 * would read `/abc` as database 0. Whether the server has that database is checked on connecting.
 */
export function parseRedisUrl(value: string, example: string): string {
  parseUrl('REDIS_URL', value, ['redis:', 'rediss:'], example);
  const path = new URL(value).pathname;
  if (path !== '' && path !== '/' && !/^\/\d{1,5}$/.test(path))
    throw new ConfigError(
      'REDIS_URL',
      withoutPassword(value),
      `must name its database as a number after the port (${example}/0), not '${path.slice(1)}'`,
    );
  return value;
}

/** A URL as it may appear in a message: its password replaced by ***. */
export function withoutPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

export function parseWhole(
  variable: string,
  value: string | undefined,
  fallback: number,
  max: number,
  min = 1,
): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      variable,
      value,
      `must be a whole number from ${min} to ${max}; example: ${fallback}`,
    );
  }
  return n;
}

/** A dashboard token: unset or empty is none; else at least 16 characters, no spaces. */
export function parseToken(value: string | undefined): string | null {
  if (value === undefined || value.trim() === '') return null;
  const token = value.trim();
  if (token.length < 16 || /\s/.test(token))
    throw new ConfigError(
      'STATCACHE_DASHBOARD_TOKEN',
      '(hidden)',
      'must be at least 16 characters without spaces; example: the output of `openssl rand -hex 32`',
    );
  return token;
}

export function parseBoolean(variable: string, value: string | undefined): boolean {
  if (value === undefined || value.trim() === '') return false;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(variable, value, 'must be true or false; example: false');
}
