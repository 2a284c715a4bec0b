import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../functions/worker';
import { signGitea } from '../helpers/gitea';
import { runtimeReport } from '../helpers/payloads';

// The review cockpit on the Worker entry with D1: migration 0006 applied by the setup file,
// Gitea's review webhook stored as activity, and work after the answer run through waitUntil.
const TOKEN = 'worker-test-token';
const SECRET = 'worker-gitea-secret';

/** One request through the Worker, waiting for what it left to waitUntil. */
async function call(bindings: typeof env, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`https://log-center.test${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
    }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

interface Detail {
  status: string;
  claimed_by: string | null;
  activity: { kind: string; actor: string; body: string | null; data: Record<string, unknown> }[];
}

/** A bug the agent took to PENDING_REVIEW with PR #`pr` on acme/`project`. */
async function pendingBug(bindings: typeof env, project: string, pr: number, reviewSettings?: unknown) {
  const put = await call(bindings, `/api/v1/projects/${project}`, {
    method: 'PUT',
    body: JSON.stringify({
      repo_url: `https://gitea.example.com/acme/${project}.git`,
      ...(reviewSettings !== undefined && { review_settings: reviewSettings }),
    }),
  });
  expect(put.status).toBe(200);
  const reported = await call(bindings, '/api/v1/logs/report', {
    method: 'POST',
    body: JSON.stringify(runtimeReport(project)),
  });
  const { id } = await reported.json<{ id: number }>();
  await call(bindings, '/api/v1/tasks/claim', {
    method: 'POST',
    body: JSON.stringify({ agent_id: 'edge-agent', project_id: project }),
  });
  await call(bindings, `/api/v1/bugs/${id}/pr-info`, {
    method: 'PUT',
    body: JSON.stringify({ pr_number: pr, branch_name: `fix/auto-${id}` }),
  });
  const moved = await call(bindings, `/api/v1/bugs/${id}/status`, {
    method: 'PUT',
    body: JSON.stringify({ status: 'PENDING_REVIEW', note: 'PR opened' }),
  });
  expect(moved.status).toBe(200);
  return id;
}

describe('review cockpit on Workers with D1', () => {
  it('migration 0006 is applied: bug_activity with its index, projects.review_settings', async () => {
    const table = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'bug_activity_bug'",
    ).first();
    expect(table).toEqual({ name: 'bug_activity_bug' });
    const columns = await env.DB.prepare('PRAGMA table_info(projects)').all<{ name: string }>();
    expect(columns.results.map((c) => c.name)).toContain('review_settings');
  });

  it('a signed review asking for changes is stored on D1 and sends the bug back to FIXING for a follow-up', async () => {
    const id = await pendingBug(env, 'w_review', 7);
    const body = JSON.stringify({
      action: 'reviewed',
      number: 7,
      pull_request: { number: 7, html_url: 'https://gitea.example.com/acme/w_review/pulls/7' },
      repository: { full_name: 'acme/w_review', clone_url: 'https://gitea.example.com/acme/w_review.git' },
      sender: { login: 'alice' },
      review: { type: 'pull_request_review_rejected', content: 'Cover the empty cart too' },
    });
    const res = await call(env, '/api/v1/webhooks/gitea', {
      method: 'POST',
      headers: {
        'X-Gitea-Event': 'pull_request_rejected',
        'X-Gitea-Event-Type': 'pull_request_review_rejected',
        'X-Gitea-Signature': signGitea(body, SECRET),
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ updated: [{ id, status: 'FIXING' }], recorded: [id] });

    const detail = await (await call(env, `/api/v1/bugs/${id}`)).json<Detail>();
    expect(detail.status).toBe('FIXING');
    expect(detail.claimed_by).toBeNull();
    expect(detail.activity).toMatchObject([
      {
        kind: 'gitea_review',
        actor: 'gitea:alice',
        body: 'Cover the empty cart too',
        data: { state: 'REQUEST_CHANGES' },
      },
    ]);
    const page = await (await call(env, `/api/v1/bugs/${id}/activity?after_id=0`)).json<{
      items: unknown[];
    }>();
    expect(page.items).toEqual(detail.activity);

    const claim = await call(env, '/api/v1/tasks/claim', {
      method: 'POST',
      body: JSON.stringify({ agent_id: 'edge-agent', project_id: 'w_review' }),
    });
    expect((await claim.json<{ items: { id: number }[] }>()).items.map((b) => b.id)).toEqual([id]);
  });

  it('the reviewer request after the status change runs through waitUntil and records its outcome', async () => {
    // Nothing listens on this port: the request fails, and the failure is what is recorded.
    const bindings = {
      ...env,
      GITEA_URL: 'http://127.0.0.1:9',
      GITEA_TOKEN: 'edge-token-0123456789',
      ALERT_ALLOW_PRIVATE_TARGETS: 'true',
      GITEA_TIMEOUT_SECONDS: '2',
    };
    const id = await pendingBug(bindings, 'w_reviewers', 3, { reviewers: ['alice'] });
    const detail = await (await call(bindings, `/api/v1/bugs/${id}`)).json<Detail>();
    expect(detail.activity).toHaveLength(1);
    expect(detail.activity[0]).toMatchObject({
      kind: 'reviewers_request_failed',
      data: { pr_number: 3, reviewers: ['alice'] },
    });
    expect(detail.activity[0]!.body).toMatch(/^Gitea (could not be reached|did not answer) /);
  });
});
