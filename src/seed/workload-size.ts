/** How big a seeded workload is: the flags given, the rest derived from the message count. */
import { InvalidInputError } from '../errors/error-classes.js';

export interface WorkloadSize {
  teams: number;
  experiments: number;
  participants: number;
  sessions: number;
  messages: number;
}

/** @defaultValue 20,000 messages: a small workload that seeds in about a second. */
export const DEFAULT_SEED_MESSAGES = 20_000;
const MESSAGES_PER_SESSION = 20;
const SESSIONS_PER_PARTICIPANT = 3;
const MESSAGES_PER_EXPERIMENT = 2_000;
const MIN_EXPERIMENTS = 3;
const MAX_DERIVED_EXPERIMENTS = 1_000;
const EXPERIMENTS_PER_TEAM = 25;
const MAX_MESSAGES = 100_000_000;

/** Derives a full size from the messages wanted, letting explicit counts override. */
export function workloadSize(messages: number, overrides: Partial<WorkloadSize> = {}): WorkloadSize {
  assertCount('messages', messages, 0, MAX_MESSAGES);
  const experiments =
    overrides.experiments ??
    Math.min(
      MAX_DERIVED_EXPERIMENTS,
      Math.max(MIN_EXPERIMENTS, Math.round(messages / MESSAGES_PER_EXPERIMENT)),
    );
  const teams = overrides.teams ?? Math.max(1, Math.ceil(experiments / EXPERIMENTS_PER_TEAM));
  const sessions = overrides.sessions ?? Math.max(1, Math.round(messages / MESSAGES_PER_SESSION));
  const participants =
    overrides.participants ?? Math.max(teams, Math.round(sessions / SESSIONS_PER_PARTICIPANT));
  const size = { teams, experiments, participants, sessions, messages };
  assertCount('teams', teams, 1, 1_000_000);
  assertCount('experiments', experiments, 1, 10_000_000);
  assertCount('sessions', sessions, 1, MAX_MESSAGES);
  assertCount('participants', participants, teams, MAX_MESSAGES);
  return size;
}

function assertCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`--${name} must be a whole number from ${min} to ${max} (got '${value}')`);
  }
}
