import { type Status, TRANSITIONS } from '../../../functions/lib/vocabulary';
import type { Activity, Bug, BugDetail, Project, Stats } from '../api/client';
import { DEFAULT_REVIEW_SETTINGS, type Notification, REVIEW_ACTIONS, type ReviewAction } from '../api/review';

/**
 * An in-memory stand-in for the Log Center API, answering `fetch` the way the server does
 * (bearer check, filters, pagination, 404/409/422 envelopes). Component and model tests run
 * the real typed client against it.
 */
export interface FakeServer {
  token: string;
  projects: Project[];
  bugs: BugDetail[];
  stats: Stats;
  calls: { method: string; path: string; query: URLSearchParams; body: unknown }[];
  notifications: Notification[];
  /**
   * What Gitea answers a review of a bug: null goes through; otherwise the status and Gitea's
   * message the server wraps in its 502 `gitea_failed` (as routes/private/review.ts does).
   */
  gitea: (bugId: number, action: ReviewAction) => { status: number; message: string } | null;
  /** Whether Gitea's webhook moves the bug right after the review (merged, closed, rejected). */
  webhookMoves: boolean;
  /** Answers waiting to be released, keyed by path prefix, to test slow responses. */
  hold?: (path: string, query: URLSearchParams) => Promise<void> | undefined;
  fetch: typeof fetch;
}

const iso = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

let nextId = 1;

type BugOverrides = Partial<Omit<BugDetail, 'error'>> & { error?: Partial<BugDetail['error']> };

export function makeBug(overrides: BugOverrides = {}): BugDetail {
  const id = overrides.id ?? nextId++;
  const { error, ...rest } = overrides;
  return {
    id,
    project_id: 'rtc_backend',
    fingerprint: `fp${id}`,
    source: 'runtime',
    level: 'ERROR',
    environment: 'production',
    status: 'NEW',
    context: {},
    version: null,
    commit_hash: null,
    occurrence_count: 1,
    regression_count: 0,
    first_seen: iso(120),
    last_seen: iso(5),
    status_changed_at: iso(120),
    pr_number: null,
    pr_url: null,
    branch_name: null,
    merge_commit_sha: null,
    merged_at: null,
    deployed_at: null,
    claimed_by: null,
    lease_expires_at: null,
    occurrences: [],
    repair_reports: [],
    history: [{ id: 1, from_status: null, to_status: 'NEW', actor: 'ingest', note: null, at: iso(120) }],
    activity: [],
    ...rest,
    error: {
      type: 'TypeError',
      message: "'NoneType' object is not iterable",
      file_path: 'app/views.py',
      line_number: 24,
      stack_trace: ['Traceback (most recent call last):', '  File "app/views.py", line 24, in user_login'],
      ...error,
    },
  };
}

const FAKE_ORIGIN = 'http://127.0.0.1:8002';
const INGEST_KEY_PATTERN = /^\w{8,200}$/;

/** `sentry_dsn` and `sentry_dsn_hint` as the server derives them from the ingest key. */
function sentryFields(sentryId: number | null, ingestKey: string | null | undefined) {
  if (sentryId === null) return { sentry_dsn: null, sentry_dsn_hint: null };
  if (ingestKey && !INGEST_KEY_PATTERN.test(ingestKey)) {
    return {
      sentry_dsn: null,
      sentry_dsn_hint: 'Rotate the ingest key to 8-200 letters, digits or underscores to get a Sentry DSN',
    };
  }
  return {
    sentry_dsn: `${FAKE_ORIGIN.replace('//', `//${ingestKey || 'public'}@`)}/${sentryId}`,
    sentry_dsn_hint: null,
  };
}

export function makeProject(id: string, overrides: Partial<Project> = {}): Project {
  const sentryId = overrides.sentry_id === undefined ? 1 : overrides.sentry_id;
  return {
    id,
    project_id: id,
    name: id,
    repo_url: null,
    local_path: null,
    description: null,
    ingest_key: null,
    rate_limit_per_minute: null,
    test_command: null,
    alert_settings: {},
    sentry_id: sentryId,
    ...sentryFields(sentryId, overrides.ingest_key),
    created_at: iso(1000),
    updated_at: iso(1000),
    bug_counts: { total: 0, by_status: {} },
    review_settings: DEFAULT_REVIEW_SETTINGS,
    ...overrides,
  };
}

let nextActivity = 1;

export function makeActivity(overrides: Partial<Activity> = {}): Activity {
  return {
    id: nextActivity++,
    kind: 'gitea_comment',
    actor: 'gitea:alice',
    body: 'Please add a test for the empty id',
    data: {},
    at: iso(3),
    ...overrides,
  };
}

let nextNotification = 1;

export function makeNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: nextNotification++,
    kind: 'pr_opened',
    bug_id: 1,
    project_id: 'rtc_backend',
    title: 'PR opened for bug #1',
    body: 'TypeError in app/views.py',
    created_at: iso(10),
    read_at: null,
    ...overrides,
  };
}

export function makeStats(overrides: Partial<Stats> = {}): Stats {
  const zero = { NEW: 0, FIXING: 0, PENDING_REVIEW: 0, MERGED: 0, DEPLOYED: 0, FAILED: 0, IGNORED: 0 };
  return {
    days: 7,
    since: iso(7 * 1440),
    totals: { total: 0, by_status: zero },
    today: { new: 0, by_status: zero },
    source_distribution: { runtime: 0, cicd: 0, deployment: 0 },
    projects: [],
    trend: [],
    window: { new: 0, fixed: 0, failed: 0 },
    fix_success_rate: null,
    mean_time_to_fix_seconds: null,
    ...overrides,
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const problem = (status: number, code: string, message: string, extra: object = {}) =>
  json(status, { error: { code, message, request_id: 'test', ...extra } });

const summary = (bug: BugDetail): Bug => {
  const { occurrences: _o, repair_reports: _r, history: _h, activity: _a, ...rest } = bug;
  return rest;
};

export function createFakeServer(init: Partial<Omit<FakeServer, 'fetch' | 'calls'>> = {}): FakeServer {
  const server: FakeServer = {
    token: 'secret-token',
    projects: [],
    bugs: [],
    stats: makeStats(),
    notifications: [],
    gitea: () => null,
    webhookMoves: true,
    ...init,
    calls: [],
    fetch: async (input, requestInit) => {
      const url = new URL(String(input), 'http://localhost');
      const method = (requestInit?.method ?? 'GET').toUpperCase();
      const body = typeof requestInit?.body === 'string' ? JSON.parse(requestInit.body) : {};
      server.calls.push({ method, path: url.pathname, query: url.searchParams, body });
      await server.hold?.(url.pathname, url.searchParams);
      const headers = new Headers(requestInit?.headers);
      if (headers.get('Authorization') !== `Bearer ${server.token}`) {
        return problem(401, 'unauthorized', 'Send Authorization: Bearer <LOG_CENTER_API_TOKEN>');
      }
      return route(server, method, url, body);
    },
  };
  return server;
}

function route(server: FakeServer, method: string, url: URL, body: Record<string, unknown>): Response {
  const path = url.pathname;
  const q = url.searchParams;
  if (method === 'GET' && path === '/api/v1/projects') {
    // Pages as the server does (routes/private/projects.ts), so models must follow them.
    const page = Number(q.get('page') ?? 1);
    const size = Math.min(Number(q.get('page_size') ?? 50), 200);
    const items = server.projects.slice((page - 1) * size, page * size);
    return json(200, { items, total: server.projects.length, page, page_size: size });
  }
  const projectMatch = /^\/api\/v1\/projects\/([^/]+)$/.exec(path);
  if (projectMatch) {
    const id = decodeURIComponent(projectMatch[1]!);
    const index = server.projects.findIndex((p) => p.project_id === id);
    if (method === 'GET')
      return index < 0 ? problem(404, 'not_found', 'Project not found') : json(200, server.projects[index]);
    if (method === 'PUT') {
      if (typeof body.ingest_key === 'string' && !INGEST_KEY_PATTERN.test(body.ingest_key)) {
        return problem(422, 'validation_failed', 'Request failed validation', {
          details: [
            {
              path: 'ingest_key',
              message: 'must be 8-200 letters, digits or underscores (it goes into the Sentry DSN)',
            },
          ],
        });
      }
      const current = server.projects[index] ?? makeProject(id);
      const updated = { ...current, ...body, name: body.name ?? id } as Project;
      Object.assign(updated, sentryFields(updated.sentry_id, updated.ingest_key));
      if (index < 0) server.projects.push(updated);
      else server.projects[index] = updated;
      return json(200, updated);
    }
  }
  if (method === 'GET' && path === '/api/v1/bugs') {
    const statuses = q.get('status')?.split(',');
    const text = q.get('q')?.toLowerCase();
    const matching = server.bugs.filter(
      (b) =>
        (!statuses || statuses.includes(b.status)) &&
        (!q.get('source') || b.source === q.get('source')) &&
        (!q.get('project_id') || b.project_id === q.get('project_id')) &&
        (!text || `${b.error.type} ${b.error.message}`.toLowerCase().includes(text)),
    );
    const page = Number(q.get('page') ?? 1);
    const size = Number(q.get('page_size') ?? 50);
    return json(200, {
      items: matching.slice((page - 1) * size, page * size).map(summary),
      total: matching.length,
      page,
      page_size: size,
    });
  }
  const bugMatch = /^\/api\/v1\/bugs\/(\d+)(\/status)?$/.exec(path);
  if (bugMatch) {
    const bug = server.bugs.find((b) => b.id === Number(bugMatch[1]));
    if (!bug) return problem(404, 'not_found', 'Bug not found');
    if (method === 'GET' && !bugMatch[2]) return json(200, bug);
    if (method === 'PUT' && bugMatch[2]) {
      const status = String(body.status);
      // The server's own table, so the dashboard's action rules are tested against it.
      if (!TRANSITIONS[bug.status as Status]?.includes(status as Status))
        return problem(409, 'invalid_transition', `A bug cannot move from ${bug.status} to ${body.status}`);
      bug.history.push({
        id: bug.history.length + 1,
        from_status: bug.status,
        to_status: status,
        actor: 'user',
        note: typeof body.note === 'string' ? body.note : null,
        at: new Date().toISOString(),
      });
      bug.status = status;
      return json(200, summary(bug));
    }
  }
  if (method === 'POST' && path === '/api/v1/bugs/review') {
    const ids = body.ids;
    if (
      !Array.isArray(ids) ||
      !ids.length ||
      ids.length > 50 ||
      !REVIEW_ACTIONS.includes(body.action as ReviewAction)
    )
      return problem(422, 'validation_failed', 'Request failed validation');
    const results = ids.map((id: number) => {
      const answer = review(server, id, body);
      return answer.ok ? { id, ok: true, bug: answer.bug } : { id, ok: false, error: answer.error };
    });
    return json(200, { results });
  }
  const reviewMatch = /^\/api\/v1\/bugs\/(\d+)\/review$/.exec(path);
  if (method === 'POST' && reviewMatch) {
    if (!REVIEW_ACTIONS.includes(body.action as ReviewAction))
      return problem(422, 'validation_failed', 'Request failed validation');
    const answer = review(server, Number(reviewMatch[1]), body);
    if (!answer.ok) return problem(answer.status, answer.error.code, answer.error.message);
    return json(200, { message: 'Done', bug: answer.bug, activity: answer.activity });
  }
  if (method === 'GET' && path === '/api/v1/notifications') {
    const unreadOnly = q.get('unread') === 'true';
    const page = Number(q.get('page') ?? 1);
    const size = Number(q.get('per_page') ?? 20);
    const newestFirst = [...server.notifications].reverse();
    const matching = newestFirst.filter((n) => !unreadOnly || !n.read_at);
    return json(200, {
      items: matching.slice((page - 1) * size, page * size),
      unread_count: server.notifications.filter((n) => !n.read_at).length,
      pagination: { page, per_page: size, total: matching.length },
    });
  }
  if (method === 'POST' && path === '/api/v1/notifications/read') {
    const ids = Array.isArray(body.ids) ? new Set(body.ids as number[]) : null;
    if (!ids && body.all !== true) return problem(422, 'validation_failed', 'Request failed validation');
    let updated = 0;
    for (const n of server.notifications) {
      if (!n.read_at && (!ids || ids.has(n.id))) {
        n.read_at = new Date().toISOString();
        updated++;
      }
    }
    return json(200, { updated, unread_count: server.notifications.filter((n) => !n.read_at).length });
  }
  if (method === 'GET' && path === '/api/v1/dashboard/stats') {
    return json(200, { ...server.stats, days: Number(q.get('days') ?? 7) });
  }
  return problem(404, 'not_found', `No route for ${method} ${path}`);
}

const REVIEW_KINDS: Record<ReviewAction, Activity['kind']> = {
  approve: 'review_approved',
  approve_and_merge: 'merge_requested',
  request_changes: 'review_changes_requested',
  close: 'pr_closed',
};
const WEBHOOK_MOVES: Partial<Record<ReviewAction, string>> = {
  approve_and_merge: 'MERGED',
  request_changes: 'FIXING',
  close: 'FAILED',
};

type ReviewOutcome =
  | { ok: true; bug: Bug; activity: Activity[] }
  | { ok: false; status: number; error: { code: string; message: string } };

/** A review as the server does it: checks, Gitea's answer, activity rows, then the webhook. */
function review(server: FakeServer, id: number, body: Record<string, unknown>): ReviewOutcome {
  const fail = (status: number, code: string, message: string): ReviewOutcome => ({
    ok: false,
    status,
    error: { code, message },
  });
  const bug = server.bugs.find((b) => b.id === id);
  if (!bug) return fail(404, 'not_found', 'Bug not found');
  if (bug.status !== 'PENDING_REVIEW' || bug.pr_number === null)
    return fail(409, 'conflict', `Bug ${id} is ${bug.status}, not waiting for review with a PR`);
  const action = body.action as ReviewAction;
  const note = typeof body.note === 'string' ? body.note : null;
  if (action === 'request_changes' && !note?.trim())
    return fail(422, 'validation_failed', 'note: required for request_changes');
  const refused = server.gitea(id, action);
  if (refused)
    return fail(502, 'gitea_failed', `Gitea refused the merge (${refused.status}): ${refused.message}`);
  const rows: Activity[] = [
    makeActivity({ kind: REVIEW_KINDS[action], actor: 'person', body: note, data: {} }),
  ];
  if (action === 'approve_and_merge')
    rows.unshift(makeActivity({ kind: 'review_approved', actor: 'person', body: note, data: {} }));
  bug.activity = [...(bug.activity ?? []), ...rows];
  const to = WEBHOOK_MOVES[action];
  if (to && server.webhookMoves) {
    bug.history.push({
      id: bug.history.length + 1,
      from_status: bug.status,
      to_status: to,
      actor: 'gitea',
      note: null,
      at: new Date().toISOString(),
    });
    bug.status = to;
  }
  return { ok: true, bug: summary(bug), activity: rows };
}
