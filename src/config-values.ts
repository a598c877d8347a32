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
    throw new ConfigError(variable, value, `is not a URL; example: ${example}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(
      variable,
      value,
      `must start with ${protocols.map((p) => `${p}//`).join(' or ')}; example: ${example}`,
    );
  }
  return value;
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
