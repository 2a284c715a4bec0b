import { computed, signal } from '@preact/signals';
import type { Api, BugDetail } from '../api/client';
import { fileChanges, parseUnifiedDiff } from '../lib/diff';
import { ACTION_RULES, actionOptions, type PersonAction } from '../lib/status';

/** Lines of each file the diff preview shows before "show the full diff". */
export const DIFF_PREVIEW_LINES = 12;

/** Notes recorded in the history when the person leaves the note field empty. */
const DEFAULT_NOTES: Record<PersonAction, string> = {
  trigger_fix: 'Fix requested from the dashboard',
  reopen: 'Reopened from the dashboard',
  mark_failed: 'Marked failed from the dashboard',
  ignore: 'Ignored from the dashboard',
};

export function createBugModel(api: Api) {
  const id = signal<number | null>(null);
  const bug = signal<BugDetail | null>(null);
  const loading = signal(false);
  const error = signal<unknown>(null);

  const note = signal('');
  const pending = signal<PersonAction | null>(null);
  const actionError = signal<unknown>(null);
  /** The last action that went through, for the confirmation line. */
  const done = signal<PersonAction | null>(null);
  const fullDiff = signal(false);

  const report = computed(() => bug.value?.repair_reports[0] ?? null);
  const diffFiles = computed(() => parseUnifiedDiff(report.value?.diff));
  const changes = computed(() => fileChanges(report.value?.modified_files ?? [], diffFiles.value));
  const totals = computed(() => ({
    files: changes.value.length,
    additions: diffFiles.value.reduce((sum, f) => sum + f.additions, 0),
    deletions: diffFiles.value.reduce((sum, f) => sum + f.deletions, 0),
  }));
  const actions = computed(() => (bug.value ? actionOptions(bug.value) : []));
  /** The PR of the bug, or of its latest report when the bug row has not caught up. */
  const pr = computed(() => {
    const b = bug.value;
    if (!b) return null;
    const number = b.pr_number ?? report.value?.pr_number ?? null;
    const url = b.pr_url ?? report.value?.pr_url ?? null;
    if (number === null && !url) return null;
    return { number, url, branch: b.branch_name ?? report.value?.branch_name ?? null };
  });

  let latest = 0;

  async function load(bugId: number, { quiet = false } = {}) {
    const ticket = ++latest;
    if (bugId !== id.value) {
      // Never show one bug's data under another bug's number while the new one loads.
      id.value = bugId;
      bug.value = null;
      note.value = '';
      done.value = null;
      actionError.value = null;
      fullDiff.value = false;
    }
    if (!quiet) loading.value = true;
    error.value = null;
    try {
      const detail = await api.getBug(bugId);
      if (ticket === latest) bug.value = detail;
    } catch (cause) {
      if (ticket === latest) error.value = cause;
    } finally {
      if (ticket === latest) loading.value = false;
    }
  }

  async function act(action: PersonAction) {
    const current = bug.value;
    if (!current || pending.value) return;
    pending.value = action;
    actionError.value = null;
    done.value = null;
    try {
      await api.setStatus(current.id, {
        status: ACTION_RULES[action].to,
        note: note.value.trim() || DEFAULT_NOTES[action],
      });
      note.value = '';
      done.value = action;
      // The history and timestamps come from the server; read them back.
      await load(current.id, { quiet: true });
    } catch (cause) {
      actionError.value = cause;
      // A 409 usually means the bug moved on (the agent claimed it): show its real state.
      await load(current.id, { quiet: true });
    } finally {
      pending.value = null;
    }
  }

  function reset() {
    latest++;
    id.value = null;
    bug.value = null;
    loading.value = false;
    error.value = null;
    note.value = '';
    pending.value = null;
    actionError.value = null;
    done.value = null;
    fullDiff.value = false;
  }

  return {
    id,
    bug,
    loading,
    error,
    note,
    pending,
    actionError,
    done,
    fullDiff,
    report,
    diffFiles,
    changes,
    totals,
    actions,
    pr,
    load,
    reload: () => (id.value === null ? Promise.resolve() : load(id.value)),
    act,
    reset,
  };
}

export type BugModel = ReturnType<typeof createBugModel>;
