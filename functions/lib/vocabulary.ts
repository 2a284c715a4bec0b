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

export const SOURCES = ['runtime', 'cicd', 'deployment'] as const;
export type Source = (typeof SOURCES)[number];

export const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];
