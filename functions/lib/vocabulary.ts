/**
 * The words the API and the dashboard share. No imports: the dashboard bundles this file
 * itself, so a state or source added here reaches both sides at once.
 */
export const STATUSES = [
  'NEW',
  'FIXING',
  'PENDING_REVIEW',
  'MERGED',
  'DEPLOYED',
  'FAILED',
  'IGNORED',
] as const;
export type Status = (typeof STATUSES)[number];

/**
 * The one transition table. Reopening (→ NEW) is how a person retries a fix; a report
 * reopens DEPLOYED (and MERGED on its merge commit) itself, in the ingest upsert.
 */
export const TRANSITIONS: Record<Status, readonly Status[]> = {
  NEW: ['FIXING', 'FAILED', 'IGNORED'],
  FIXING: ['PENDING_REVIEW', 'FAILED', 'NEW'],
  // FIXING: a reviewer asked for changes; the agent follows up on the same branch and PR.
  PENDING_REVIEW: ['MERGED', 'FAILED', 'NEW', 'FIXING'],
  MERGED: ['DEPLOYED', 'FAILED', 'NEW'],
  DEPLOYED: ['NEW'],
  FAILED: ['NEW', 'IGNORED'],
  IGNORED: ['NEW'],
};

export const SOURCES = ['runtime', 'cicd', 'deployment'] as const;
export type Source = (typeof SOURCES)[number];

export const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];

/** Names of the earlier nine-state workflow, still sent by older clients. */
export const LEGACY_STATUSES: Record<string, Status> = {
  VERIFYING: 'NEW',
  PENDING_FIX: 'NEW',
  FIXED: 'PENDING_REVIEW',
  VERIFIED: 'MERGED',
  FIX_FAILED: 'FAILED',
  CANNOT_REPRODUCE: 'FAILED',
};

/** A status or a legacy name, in any case; undefined when it is neither. */
export function parseStatus(value: string): Status | undefined {
  const upper = value.trim().toUpperCase();
  const status = LEGACY_STATUSES[upper] ?? upper;
  return (STATUSES as readonly string[]).includes(status) ? (status as Status) : undefined;
}

export const canTransition = (from: string, to: Status) => (TRANSITIONS[from as Status] ?? []).includes(to);

const LEVEL_ALIASES: Record<string, Level> = { WARN: 'WARNING', FATAL: 'CRITICAL' };

/** A level in any case, with the aliases WARN and FATAL; undefined when it is none. */
export function normaliseLevel(value: string): Level | undefined {
  const upper = value.trim().toUpperCase();
  const level = LEVEL_ALIASES[upper] ?? upper;
  return (LEVELS as readonly string[]).includes(level) ? (level as Level) : undefined;
}

/**
 * The same rule as a pattern, for documents that cannot run code (the OpenAPI schema): each
 * letter as a two-case class, surrounding blanks allowed, as `normaliseLevel` trims.
 */
export const LEVEL_PATTERN = `^\\s*(${[...LEVELS, ...Object.keys(LEVEL_ALIASES)]
  .map((name) => [...name].map((ch) => `[${ch}${ch.toLowerCase()}]`).join(''))
  .join('|')})\\s*$`;

/** Project ids: in URLs, file names and fingerprints, so a conservative alphabet. */
export const PROJECT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
