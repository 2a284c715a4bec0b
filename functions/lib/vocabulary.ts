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
  PENDING_REVIEW: ['MERGED', 'FAILED', 'NEW'],
  MERGED: ['DEPLOYED', 'FAILED', 'NEW'],
  DEPLOYED: ['NEW'],
  FAILED: ['NEW', 'IGNORED'],
  IGNORED: ['NEW'],
};

export const SOURCES = ['runtime', 'cicd', 'deployment'] as const;
export type Source = (typeof SOURCES)[number];

export const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];
