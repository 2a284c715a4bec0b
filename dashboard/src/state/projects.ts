import { computed, signal } from '@preact/signals';
import { type Api, ApiError, type Project, type ProjectUpdate } from '../api/client';
import { DEFAULT_REVIEW_SETTINGS, type MergeStyle } from '../api/review';
import type { Level } from '../lib/status';

export function createProjectsModel(api: Api) {
  const items = signal<Project[] | null>(null);
  const loading = signal(false);
  const error = signal<unknown>(null);
  const ids = computed(() => (items.value ?? []).map((p) => p.project_id));

  /** Throws as well as recording the error, so sign-in can tell a refused token apart. */
  async function load() {
    loading.value = true;
    error.value = null;
    try {
      // The server answers pages (50 a page); the filter and the projects page need them all.
      const all: Project[] = [];
      for (let page = 1; ; page++) {
        const answer = await api.listProjects(page);
        all.push(...answer.items);
        if (!answer.items.length || all.length >= answer.total) break;
      }
      items.value = all;
    } catch (cause) {
      error.value = cause;
      throw cause;
    } finally {
      loading.value = false;
    }
  }

  function reset() {
    items.value = null;
    loading.value = false;
    error.value = null;
  }

  return { items, loading, error, ids, load, reload: () => load().catch(() => {}), reset };
}

export type ProjectsModel = ReturnType<typeof createProjectsModel>;

export const ALERT_EVENTS = ['new_bug', 'regression', 'failed', 'pr_opened', 'merged'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/** The project form as the person types it: text fields stay strings until saved. */
export interface ProjectDraft {
  name: string;
  repo_url: string;
  local_path: string;
  description: string;
  test_command: string;
  ingest_key: string;
  rate_limit_per_minute: string;
  slack_webhook_url: string;
  alert_webhook_url: string;
  events: Record<AlertEvent, boolean>;
  min_level: Level | '';
  /** Comma-separated lists, as typed. */
  email_recipients: string;
  dingtalk_webhook_url: string;
  dingtalk_secret: string;
  wecom_webhook_url: string;
  reviewers: string;
  merge_style: MergeStyle;
  auto_enabled: boolean;
  auto_max_lines: string;
  auto_paths: string;
  auto_merge: boolean;
}

// Alerts go out on new bugs, regressions and failures unless a project says otherwise, as the
// server does (docs/lifecycle-and-alerts.md#alerts).
const DEFAULT_EVENTS: Record<AlertEvent, boolean> = {
  new_bug: true,
  regression: true,
  failed: true,
  pr_opened: false,
  merged: false,
};

/** "a, b,,c" → ["a", "b", "c"]: commas or new lines separate, blanks are dropped. */
export const splitList = (text: string) =>
  text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean);

export function draftOf(project: Project | null): ProjectDraft {
  const alerts = project?.alert_settings ?? {};
  const review = project?.review_settings ?? DEFAULT_REVIEW_SETTINGS;
  const auto = { ...DEFAULT_REVIEW_SETTINGS.auto_approve, ...review.auto_approve };
  return {
    name: project?.name ?? '',
    repo_url: project?.repo_url ?? '',
    local_path: project?.local_path ?? '',
    description: project?.description ?? '',
    test_command: project?.test_command ?? '',
    ingest_key: project?.ingest_key ?? '',
    rate_limit_per_minute: project?.rate_limit_per_minute?.toString() ?? '',
    slack_webhook_url: alerts.slack_webhook_url ?? '',
    alert_webhook_url: alerts.alert_webhook_url ?? '',
    events: { ...DEFAULT_EVENTS, ...(alerts.events as Partial<Record<AlertEvent, boolean>>) },
    min_level: alerts.min_level ?? '',
    email_recipients: (alerts.email_recipients ?? []).join(', '),
    dingtalk_webhook_url: alerts.dingtalk_webhook_url ?? '',
    dingtalk_secret: alerts.dingtalk_secret ?? '',
    wecom_webhook_url: alerts.wecom_webhook_url ?? '',
    reviewers: (review.reviewers ?? []).join(', '),
    merge_style: review.merge_style ?? 'merge',
    auto_enabled: auto.enabled,
    auto_max_lines: String(auto.max_changed_lines),
    auto_paths: auto.allowed_paths.join(', '),
    auto_merge: auto.merge,
  };
}

/**
 * The server's rule for new ingest keys (functions/services/sentry/auth.ts): the key becomes
 * the public key of the project's Sentry DSN, and SDKs parse that part as `\w+`.
 */
export const INGEST_KEY = /^\w{8,200}$/;

export type DraftProblem =
  | 'ingest_key_short'
  | 'ingest_key_format'
  | 'rate_limit'
  | 'url'
  | 'email'
  | 'max_lines'
  | 'reviewer';

const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
// Gitea user names: letters, digits, '-', '_' and '.'.
const GITEA_USER = /^[\w.-]{1,40}$/;

/** Checks the form can be sent; the server checks again and its answer is shown too. */
export function draftProblems(draft: ProjectDraft): Partial<Record<string, DraftProblem>> {
  const problems: Partial<Record<string, DraftProblem>> = {};
  const key = draft.ingest_key.trim();
  if (key && key.length < 8) problems.ingest_key = 'ingest_key_short';
  else if (key && !INGEST_KEY.test(key)) problems.ingest_key = 'ingest_key_format';
  const rate = draft.rate_limit_per_minute.trim();
  if (rate && !/^\d+$/.test(rate)) problems.rate_limit_per_minute = 'rate_limit';
  for (const field of [
    'slack_webhook_url',
    'alert_webhook_url',
    'dingtalk_webhook_url',
    'wecom_webhook_url',
  ] as const) {
    const value = draft[field].trim();
    if (value && !/^https?:\/\/\S+$/i.test(value)) problems[`alert_settings.${field}`] = 'url';
  }
  if (!splitList(draft.email_recipients).every((e) => EMAIL.test(e))) {
    problems['alert_settings.email_recipients'] = 'email';
  }
  if (!splitList(draft.reviewers).every((name) => GITEA_USER.test(name))) {
    problems['review_settings.reviewers'] = 'reviewer';
  }
  if (!/^\d{1,7}$/.test(draft.auto_max_lines.trim())) {
    problems['review_settings.auto_approve.max_changed_lines'] = 'max_lines';
  }
  return problems;
}

const orNull = (value: string) => value.trim() || null;

export function updateOf(draft: ProjectDraft): ProjectUpdate {
  const rate = draft.rate_limit_per_minute.trim();
  return {
    name: orNull(draft.name),
    repo_url: orNull(draft.repo_url),
    local_path: orNull(draft.local_path),
    description: orNull(draft.description),
    test_command: orNull(draft.test_command),
    ingest_key: orNull(draft.ingest_key),
    rate_limit_per_minute: rate ? Number(rate) : null,
    alert_settings: {
      slack_webhook_url: orNull(draft.slack_webhook_url),
      alert_webhook_url: orNull(draft.alert_webhook_url),
      events: draft.events,
      ...(draft.min_level ? { min_level: draft.min_level } : {}),
      email_recipients: splitList(draft.email_recipients),
      dingtalk_webhook_url: orNull(draft.dingtalk_webhook_url),
      dingtalk_secret: orNull(draft.dingtalk_secret),
      wecom_webhook_url: orNull(draft.wecom_webhook_url),
    },
    review_settings: {
      reviewers: splitList(draft.reviewers),
      merge_style: draft.merge_style,
      auto_approve: {
        enabled: draft.auto_enabled,
        max_changed_lines: Number(draft.auto_max_lines.trim()),
        allowed_paths: splitList(draft.auto_paths),
        merge: draft.auto_merge,
      },
    },
  };
}

/** A fresh ingest key: 24 random bytes as hex, which fits a Sentry DSN (`\w` only). */
export function generateIngestKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function createProjectEditor(api: Api, projects: ProjectsModel) {
  const id = signal<string | null>(null);
  const project = signal<Project | null>(null);
  /** True when the id has no project yet: saving creates it. */
  const creating = signal(false);
  const draft = signal<ProjectDraft>(draftOf(null));
  const loading = signal(false);
  const error = signal<unknown>(null);
  const saving = signal(false);
  const saveError = signal<unknown>(null);
  const saved = signal(false);
  /** Problems are shown once the person tried to save, not while they type. */
  const submitted = signal(false);

  const localProblems = computed(() => draftProblems(draft.value));
  const problems = computed(() => {
    const server: Record<string, string> = {};
    const failure = saveError.value;
    if (failure instanceof ApiError) for (const d of failure.details) server[d.path] = d.message;
    return { local: submitted.value ? localProblems.value : {}, server };
  });
  const dirty = computed(() => JSON.stringify(draft.value) !== JSON.stringify(draftOf(project.value)));

  let latest = 0;

  async function open(projectId: string) {
    const ticket = ++latest;
    id.value = projectId;
    project.value = null;
    creating.value = false;
    draft.value = draftOf(null);
    saveError.value = null;
    saved.value = false;
    submitted.value = false;
    loading.value = true;
    error.value = null;
    try {
      const found = await api.getProject(projectId);
      if (ticket !== latest) return;
      project.value = found;
      draft.value = draftOf(found);
    } catch (cause) {
      if (ticket !== latest) return;
      if (cause instanceof ApiError && cause.status === 404) creating.value = true;
      else error.value = cause;
    } finally {
      if (ticket === latest) loading.value = false;
    }
  }

  function edit(patch: Partial<ProjectDraft>) {
    draft.value = { ...draft.value, ...patch };
    saved.value = false;
  }

  async function save() {
    const projectId = id.value;
    if (!projectId || saving.value) return;
    submitted.value = true;
    if (Object.keys(localProblems.value).length) return;
    saving.value = true;
    saveError.value = null;
    saved.value = false;
    try {
      const updated = await api.saveProject(projectId, updateOf(draft.value));
      project.value = updated;
      draft.value = draftOf(updated);
      creating.value = false;
      saved.value = true;
      submitted.value = false;
      void projects.reload();
    } catch (cause) {
      saveError.value = cause;
    } finally {
      saving.value = false;
    }
  }

  function reset() {
    latest++;
    id.value = null;
    project.value = null;
    creating.value = false;
    draft.value = draftOf(null);
    loading.value = false;
    error.value = null;
    saveError.value = null;
    saved.value = false;
    submitted.value = false;
  }

  return {
    id,
    project,
    creating,
    draft,
    loading,
    error,
    saving,
    saveError,
    saved,
    problems,
    dirty,
    open,
    edit,
    save,
    reset,
  };
}

export type ProjectEditor = ReturnType<typeof createProjectEditor>;
