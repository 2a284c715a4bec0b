import { computed, signal } from '@preact/signals';
import type { Api } from '../api/client';
import { BATCH_MAX, type BatchResult } from '../api/review';
import type { BoardModel } from './board';
import { type ReviewProblem, reviewProblem } from './review';

export const BATCH_ACTIONS = ['approve_and_merge', 'request_changes'] as const;
export type BatchAction = (typeof BATCH_ACTIONS)[number];

/**
 * Batch review on the board: the person ticks bugs waiting for review, picks approve & merge
 * or reject, confirms, and sees one result per bug (a conflict on one does not stop the rest).
 */
export function createBatchModel(api: Api, board: BoardModel) {
  const picked = signal<ReadonlySet<number>>(new Set());
  const note = signal('');
  const confirming = signal<BatchAction | null>(null);
  const pending = signal<BatchAction | null>(null);
  const problem = signal<ReviewProblem | 'too_many' | null>(null);
  const error = signal<unknown>(null);
  const results = signal<BatchResult[] | null>(null);

  /** Bugs on screen that can be reviewed: a selection never outlives a reload or filter change. */
  const reviewable = computed(() => {
    const rows = [...(board.needsAction.value?.items ?? []), ...(board.list.value?.items ?? [])];
    return new Set(
      rows.filter((b) => b.status === 'PENDING_REVIEW' && b.pr_number !== null).map((b) => b.id),
    );
  });
  const selected = computed(() => [...picked.value].filter((id) => reviewable.value.has(id)));

  function toggle(id: number, on: boolean) {
    const next = new Set(picked.value);
    if (on) next.add(id);
    else next.delete(id);
    picked.value = next;
    confirming.value = null;
  }

  /** "Select all" of one table: its reviewable rows, on or off. */
  function setAll(ids: number[], on: boolean) {
    const next = new Set(picked.value);
    for (const id of ids) if (reviewable.value.has(id)) on ? next.add(id) : next.delete(id);
    picked.value = next;
    confirming.value = null;
  }

  function ask(action: BatchAction) {
    const count = selected.value.length;
    if (!count) return;
    problem.value = count > BATCH_MAX ? 'too_many' : reviewProblem(action, note.value);
    if (problem.value) return;
    error.value = null;
    confirming.value = action;
  }

  async function confirm() {
    const action = confirming.value;
    const ids = selected.value;
    if (!action || !ids.length || pending.value) return;
    pending.value = action;
    error.value = null;
    results.value = null;
    try {
      const text = note.value.trim();
      const answer = await api.reviewBatch({ ids, action, ...(text ? { note: text } : {}) });
      results.value = answer.results;
      // The ones that went through are done; the ones that failed stay ticked to try again.
      picked.value = new Set(answer.results.filter((r) => !r.ok).map((r) => r.id));
      if (answer.results.every((r) => r.ok)) note.value = '';
      confirming.value = null;
      await board.reload();
    } catch (cause) {
      error.value = cause;
      confirming.value = null;
    } finally {
      pending.value = null;
    }
  }

  function reset() {
    picked.value = new Set();
    note.value = '';
    confirming.value = null;
    pending.value = null;
    problem.value = null;
    error.value = null;
    results.value = null;
  }

  return {
    picked,
    note,
    confirming,
    pending,
    problem,
    error,
    results,
    reviewable,
    selected,
    toggle,
    setAll,
    ask,
    cancel: () => (confirming.value = null),
    confirm,
    dismiss: () => (results.value = null),
    reset,
  };
}

export type BatchModel = ReturnType<typeof createBatchModel>;
