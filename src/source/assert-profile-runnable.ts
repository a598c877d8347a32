/**
 * Where the move to source profiles stands: `statcache source` checks any profile against a
 * database, but the rebuild, refresh, compression, verify, reads, triggers and seed still spell
 * statcache's own table names. Until each reads its names from the profile, every other entry
 * point refuses another profile instead of silently counting the demo tables.
 */
import { SourceProfileError } from '../errors/error-classes.js';
import { STATCACHE_PROFILE } from './builtin-profiles.js';
import type { SourceProfile } from './source-profile.js';

/** Throws SourceProfileError unless `profile` is statcache's own schema. */
export function assertProfileRunnable(profile: SourceProfile): void {
  if (profile === STATCACHE_PROFILE) return;
  throw new SourceProfileError(
    profile.origin === 'builtin' ? profile.name : profile.origin,
    '',
    "is not supported here yet: only `statcache source` reads it so far (everything else runs on statcache's own schema); unset STATCACHE_SOURCE",
  );
}
