import {
  LEVELS,
  type Level,
  SOURCES,
  type Source,
  STATUSES,
  type Status,
} from '../../../functions/lib/vocabulary';

/** Bug states, sources and levels exactly as the API names them (docs/api.md), from the API's own list. */
export { LEVELS, type Level, SOURCES, type Source, STATUSES };
export type BugStatus = Status;

/** The states the board counts for today: the repair path, without IGNORED (muted bugs are not news). */
export const TODAY_STATUSES = ['NEW', 'FIXING', 'PENDING_REVIEW', 'MERGED', 'DEPLOYED', 'FAILED'] as const;

export const isStatus = (value: unknown): value is BugStatus => STATUSES.includes(value as BugStatus);
export const isSource = (value: unknown): value is Source => SOURCES.includes(value as Source);

/** What a person can do to a bug from its detail page. */
export const PERSON_ACTIONS = ['trigger_fix', 'reopen', 'mark_failed', 'ignore'] as const;
export type PersonAction = (typeof PERSON_ACTIONS)[number];

// FIXING is left out on purpose: the agent holds a lease on it, and the sweep returns it
// to NEW when the lease runs out.
const REOPENABLE: readonly BugStatus[] = ['FAILED', 'IGNORED', 'PENDING_REVIEW', 'MERGED', 'DEPLOYED'];

/**
 * Target state and the states each action may start from, a subset of the server's
 * transition table (functions/services/lifecycle.ts). The server has the last word (409
 * invalid_transition); this only keeps buttons that cannot work from being offered.
 */
export const ACTION_RULES: Record<PersonAction, { to: BugStatus; from: readonly BugStatus[] }> = {
  // Back to NEW is what puts a bug in the repair agent's queue.
  trigger_fix: { to: 'NEW', from: REOPENABLE },
  reopen: { to: 'NEW', from: REOPENABLE },
  mark_failed: { to: 'FAILED', from: ['NEW', 'FIXING', 'PENDING_REVIEW', 'MERGED'] },
  // Muting is for bugs nobody is working on; a fix in flight is failed or reopened instead.
  ignore: { to: 'IGNORED', from: ['NEW', 'FAILED'] },
};

export type ActionBlock = 'state' | 'not_runtime';

export interface ActionOption {
  action: PersonAction;
  to: BugStatus;
  /** Why the action is unavailable, or null when it can be taken. */
  blocked: ActionBlock | null;
}

/** The repair agent only fixes application code, so CI and pod failures cannot be handed to it. */
export function actionOptions(bug: { status: string; source: string }): ActionOption[] {
  return PERSON_ACTIONS.map((action) => {
    const rule = ACTION_RULES[action];
    let blocked: ActionBlock | null = rule.from.includes(bug.status as BugStatus) ? null : 'state';
    if (action === 'trigger_fix' && bug.source !== 'runtime') blocked = 'not_runtime';
    return { action, to: rule.to, blocked };
  });
}
