/** `--lock-timeout <ms>`, shared by the commands that change the platform's tables (migrate, uninstall). */
import { Option } from 'commander';
import { DEFAULT_LOCK_POLICY, type LockPolicy } from '../src/install/run-steps.js';
import { intInRange } from './parse-options.js';

export const lockTimeoutOption = () =>
  new Option(
    '--lock-timeout <ms>',
    'longest a statement may wait for a lock on a table (writers queue behind it meanwhile)',
  )
    .argParser(intInRange(1, 60_000))
    .default(DEFAULT_LOCK_POLICY.timeoutMs);

/** The lock policy for a parsed `--lock-timeout`. */
export const lockPolicyOf = (lockTimeout: number): LockPolicy => ({
  ...DEFAULT_LOCK_POLICY,
  timeoutMs: lockTimeout,
});
