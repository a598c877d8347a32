/** What every read helper takes besides its own arguments: where the tables are, and how current to be. */
import { DEFAULT_EXCLUDED_PLATFORMS, DEFAULT_FRESH_MAX_PENDING } from '../../config.js';
import { InvalidInputError } from '../../errors/error-classes.js';
import { STATCACHE_PROFILE } from '../../source/builtin-profiles.js';
import type { SourceProfile } from '../../source/source-profile.js';

export interface ReadOptions {
  /** Where the platform keeps its tables. @defaultValue the statcache demo schema */
  source?: SourceProfile;
  /**
   * Exact at the instant of the read: the buckets that pending changes name are recounted from
   * source in the read's own statement (read-only), so the answer equals a live recount, late data,
   * deletes and updates included. The answer's freshness says `fresh`, or `cached` with `fellBack`
   * when more than `freshMaxPending` changes touch what was asked for. @defaultValue false
   */
  fresh?: boolean;
  /** @defaultValue {@link DEFAULT_FRESH_MAX_PENDING} */
  freshMaxPending?: number;
  /**
   * Platforms whose sessions count nowhere, as the refresh was told (a fresh or live read counts
   * from source, so it must leave out the same ones). @defaultValue ['evaluations']
   */
  excludedPlatforms?: readonly string[];
}

export interface ResolvedReadOptions {
  source: SourceProfile;
  /** The bound when fresh was asked for, else null. */
  freshMaxPending: number | null;
  excludedPlatforms: readonly string[];
}

export function resolveReadOptions(options: ReadOptions = {}): ResolvedReadOptions {
  const bound = options.freshMaxPending ?? DEFAULT_FRESH_MAX_PENDING;
  if (!Number.isSafeInteger(bound) || bound < 0) {
    throw new InvalidInputError(
      `freshMaxPending must be a whole number, 0 or more (got '${String(options.freshMaxPending)}')`,
    );
  }
  if (options.fresh !== undefined && typeof options.fresh !== 'boolean') {
    throw new InvalidInputError(`fresh must be true or false (got '${String(options.fresh)}')`);
  }
  return {
    source: options.source ?? STATCACHE_PROFILE,
    freshMaxPending: options.fresh ? bound : null,
    excludedPlatforms: options.excludedPlatforms ?? DEFAULT_EXCLUDED_PLATFORMS,
  };
}

/** The read options a command or the server passes, from the configuration. */
export function readOptionsFrom(
  config: { source: SourceProfile; excludedPlatforms: readonly string[]; freshMaxPending: number },
  fresh = false,
): ReadOptions {
  return {
    source: config.source,
    excludedPlatforms: config.excludedPlatforms,
    freshMaxPending: config.freshMaxPending,
    fresh,
  };
}
