/** STATCACHE_SOURCE: a built-in profile's name, or the path of a JSON profile file. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, SourceProfileError } from '../errors/error-classes.js';
import { BUILTIN_PROFILES } from './builtin-profiles.js';
import { parseSourceProfile } from './parse-source-profile.js';
import type { SourceProfile } from './source-profile.js';

/** The profile used when STATCACHE_SOURCE is unset: statcache's own demo schema. */
export const DEFAULT_SOURCE = 'statcache';

/** The profile `value` names (a built-in name, else a file path, read and validated now). */
export function resolveSourceProfile(value: string | undefined): SourceProfile {
  const name = value?.trim() || DEFAULT_SOURCE;
  const builtin = BUILTIN_PROFILES[name];
  if (builtin) return builtin;
  if (!name.toLowerCase().endsWith('.json'))
    throw new ConfigError(
      'STATCACHE_SOURCE',
      name,
      `must be ${Object.keys(BUILTIN_PROFILES).join(' or ')}, or the path of a JSON profile file ending in .json; example: ocs`,
    );
  const path = resolve(name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    throw new ConfigError(
      'STATCACHE_SOURCE',
      name,
      `names a profile file that cannot be read (${code}); example: ./ocs.json`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SourceProfileError(path, '', `is not valid JSON (${(error as Error).message})`);
  }
  return parseSourceProfile(json, path);
}
