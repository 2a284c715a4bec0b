import { computed, signal } from '@preact/signals';
import { type Api, ApiError } from '../api/client';
import { DEFAULT_REVIEW_SETTINGS, type MergeStyle, NOTE_MAX, type ReviewAction } from '../api/review';
import type { BugModel } from './bug';
import type { ProjectsModel } from './projects';

/** Actions after which Gitea's webhook moves the bug; the page watches for that move. */
const MOVES: readonly ReviewAction[] = ['approve_and_merge', 'request_changes', 'close'];
/** How often and how long the page looks for the webhook's move after an action. */
export const FOLLOW_UP_MS = 1_000;
export const FOLLOW_UP_TRIES = 8;

export type ReviewProblem = 'note_required' | 'note_too_long';

export function reviewProblem(action: ReviewAction, note: string): ReviewProblem | null {
  if (note.length > NOTE_MAX) return 'note_too_long';
  if (action === 'request_changes' && !note.trim()) return 'note_required';
  return null;
}

/**
 * The review panel of a bug in PENDING_REVIEW with a PR: the person picks an action, confirms
 * it, and the server asks Gitea. The bug's status follows Gitea's webhook, not this call, so
 * after an action that moves the PR the page reads the bug again until the move shows.
 */
export function createReviewModel(api: Api, bug: BugModel, projects: ProjectsModel) {
  const note = signal('');
  /** The merge style the person chose; null means the project's. */
  const style = signal<MergeStyle | null>(null);
  const confirming = signal<ReviewAction | null>(null);
  const pending = signal<ReviewAction | null>(null);
  const error = signal<unknown>(null);
  const problem = signal<ReviewProblem | null>(null);
  const done = signal<ReviewAction | null>(null);

  const settings = computed(() => {
    const projectId = bug.bug.value?.project_id;
    const project = projects.items.value?.find((p) => p.project_id === projectId);
    return project?.review_settings ?? DEFAULT_REVIEW_SETTINGS;
  });
  const mergeStyle = computed(() => style.value ?? settings.value.merge_style);
  const available = computed(() => {
    const b = bug.bug.value;
    return Boolean(b && b.status === 'PENDING_REVIEW' && b.pr_number !== null);
  });

  function ask(action: ReviewAction) {
    problem.value = reviewProblem(action, note.value);
    if (problem.value) return;
    error.value = null;
    done.value = null;
    confirming.value = action;
  }

  let watch = 0;

  async function followUp(bugId: number) {
    const ticket = ++watch;
    for (let i = 0; i < FOLLOW_UP_TRIES; i++) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_UP_MS));
      if (ticket !== watch || bug.id.value !== bugId) return;
      await bug.load(bugId, { quiet: true });
      if (bug.bug.value?.status !== 'PENDING_REVIEW') return;
    }
  }

  async function confirm() {
    const action = confirming.value;
    const current = bug.bug.value;
    if (!action || !current || pending.value) return;
    pending.value = action;
    error.value = null;
    try {
      const text = note.value.trim();
      await api.review(current.id, {
        action,
        ...(text ? { note: text } : {}),
        ...(action === 'approve_and_merge' ? { merge_style: mergeStyle.value } : {}),
      });
      note.value = '';
      done.value = action;
      confirming.value = null;
      await bug.load(current.id, { quiet: true });
      if (MOVES.includes(action) && bug.bug.value?.status === 'PENDING_REVIEW') void followUp(current.id);
    } catch (cause) {
      // Gitea refused or the bug moved on: the note stays so the person can try again.
      error.value = cause;
      confirming.value = null;
      if (cause instanceof ApiError && cause.status === 409) await bug.load(current.id, { quiet: true });
    } finally {
      pending.value = null;
    }
  }

  function reset() {
    watch++;
    note.value = '';
    style.value = null;
    confirming.value = null;
    pending.value = null;
    error.value = null;
    problem.value = null;
    done.value = null;
  }

  return {
    note,
    style,
    confirming,
    pending,
    error,
    problem,
    done,
    settings,
    mergeStyle,
    available,
    ask,
    cancel: () => (confirming.value = null),
    confirm,
    reset,
  };
}

export type ReviewModel = ReturnType<typeof createReviewModel>;
