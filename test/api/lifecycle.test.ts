import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { giteaPullRequestPayload, signGitea } from '../helpers/gitea';
import { cicdReport, runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';

const GITEA_SECRET = 'gitea-secret-for-tests';
const DEPLOY_SECRET = 'deploy-secret-for-tests';

let lc: LogCenterHandle;
beforeAll(async () => {
  lc = await startLogCenter({
    env: { GITEA_WEBHOOK_SECRET: GITEA_SECRET, DEPLOY_WEBHOOK_SECRET: DEPLOY_SECRET },
  });
});
afterAll(() => lc.stop());

const json = (body: unknown) => ({ body: JSON.stringify(body) });
const setStatus = (id: number, status: string, note?: string) =>
  lc.api(`/api/v1/bugs/${id}/status`, { method: 'PUT', ...json({ status, note }) });
const getBug = async (id: number) => (await lc.api(`/api/v1/bugs/${id}`)).json();

async function newBug(project = uniqueProject(), line = 42): Promise<{ id: number; project: string }> {
  const res = await lc.report(
    runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: line } }),
  );
  return { id: (await res.json()).id, project };
}

async function claim(agent: string, project: string, limit = 1) {
  const res = await lc.api('/api/v1/tasks/claim', {
    method: 'POST',
    ...json({ agent_id: agent, project_id: project, source: 'runtime', limit }),
  });
  expect(res.status).toBe(200);
  return (await res.json()).items as {
    id: number;
    status: string;
    claimed_by: string;
    lease_expires_at: string;
  }[];
}

function sendGitea(payload: unknown, secret = GITEA_SECRET, path = '/api/webhooks/gitea') {
  const body = JSON.stringify(payload);
  return fetch(`${lc.url}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Gitea-Event': 'pull_request',
      'X-Gitea-Signature': signGitea(body, secret),
    },
    body,
  });
}

const deploy = (body: unknown, secret = DEPLOY_SECRET) =>
  fetch(`${lc.url}/api/webhooks/deployment`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Secret': secret },
    body: JSON.stringify(body),
  });

/** Takes a bug through claim, PR and merge the way the agent and Gitea do. */
async function toMerged(owner: string, repo: string, pr: number, mergeCommit: string) {
  const project = uniqueProject();
  await lc.api(`/api/v1/projects/${project}`, {
    method: 'PUT',
    ...json({ repo_url: `https://gitea.airlabs.art/${owner}/${repo}.git` }),
  });
  const { id } = await newBug(project);
  await claim('agent-1', project);
  await lc.api(`/api/v1/bugs/${id}/pr-info`, {
    method: 'PUT',
    ...json({
      pr_number: pr,
      pr_url: `https://gitea.airlabs.art/${owner}/${repo}/pulls/${pr}`,
      branch_name: 'fix/auto-1',
    }),
  });
  expect((await setStatus(id, 'PENDING_REVIEW', 'PR opened')).status).toBe(200);
  const res = await sendGitea(
    giteaPullRequestPayload({ owner, repo, number: pr, action: 'closed', merged: true, mergeCommit }),
  );
  expect(res.status).toBe(200);
  return { id, project };
}

describe('status changes', () => {
  it('follows the transition table and records every change', async () => {
    const { id } = await newBug();
    const ignored = await setStatus(id, 'IGNORED', 'noise');
    expect(ignored.status).toBe(200);
    expect((await ignored.json()).status).toBe('IGNORED');
    const bad = await setStatus(id, 'MERGED');
    expect(bad.status).toBe(409);
    expect((await bad.json()).error).toMatchObject({
      code: 'invalid_transition',
      from: 'IGNORED',
      to: 'MERGED',
    });
    expect((await setStatus(id, 'NEW', 'reopen')).status).toBe(200);
    const bug = await getBug(id);
    expect(
      bug.history.map((h: { from_status: string; to_status: string }) => `${h.from_status}->${h.to_status}`),
    ).toEqual(['null->NEW', 'NEW->IGNORED', 'IGNORED->NEW']);
    expect(bug.history[1]).toMatchObject({ actor: 'user', note: 'noise', at: expect.any(String) });
  });

  it('maps legacy names on input', async () => {
    const { id } = await newBug();
    const res = await setStatus(id, 'fix_failed');
    expect((await res.json()).status).toBe('FAILED');
    expect((await (await setStatus(id, 'PENDING_FIX')).json()).status).toBe('NEW');
  });

  it('answers 422 for an unknown status and 404 for an unknown bug', async () => {
    const { id } = await newBug();
    const unknown = await setStatus(id, 'DONE');
    expect(unknown.status).toBe(422);
    expect((await unknown.json()).error.code).toBe('validation_failed');
    expect((await setStatus(9_999_999, 'FAILED')).status).toBe(404);
    const malformed = await lc.api(`/api/v1/bugs/${id}/status`, { method: 'PUT', body: '{"status":' });
    expect(malformed.status).toBe(400);
    expect((await getBug(id)).status).toBe('NEW');
  });
});

describe('agent claims', () => {
  it('never hands the same bug to two agents claiming at once', async () => {
    const project = uniqueProject();
    for (let line = 0; line < 10; line++) await newBug(project, line);
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => claim(`agent-${i}`, project, 3)));
    const ids = claims.flat().map((b) => b.id);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    for (const [i, items] of claims.entries()) {
      for (const bug of items) {
        expect(bug).toMatchObject({ status: 'FIXING', claimed_by: `agent-${i}` });
        expect(Date.parse(bug.lease_expires_at)).toBeGreaterThan(Date.now());
      }
    }
    expect(await claim('late', project)).toEqual([]);
    const pending = await (await lc.api(`/api/v1/tasks/pending?project_id=${project}`)).json();
    expect(pending.items).toEqual([]);
  });

  it('claims only the asked source', async () => {
    const project = uniqueProject();
    await lc.report(cicdReport(project));
    expect(await claim('a', project)).toEqual([]);
    const pending = await (await lc.api(`/api/v1/tasks/pending?project_id=${project}&source=cicd`)).json();
    expect(pending.items).toHaveLength(1);
  });

  it('puts expired leases back to NEW and fails a bug on the third expiry', async () => {
    const project = uniqueProject();
    const { id } = await newBug(project);
    const expire = () =>
      lc.server.deps.db.run(
        sql`UPDATE bugs SET lease_expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ${id}`,
      );
    for (let round = 1; round <= 3; round++) {
      expect((await claim(`agent-${round}`, project)).map((b) => b.id)).toEqual([id]);
      await expire(); // as if the agent died and the lease ran out
      const sweep = await (await lc.api('/api/v1/admin/sweep', { method: 'POST' })).json();
      expect(sweep.leases_expired).toBeGreaterThanOrEqual(1);
      const bug = await getBug(id);
      expect(bug.status).toBe(round < 3 ? 'NEW' : 'FAILED');
      expect(bug.claimed_by).toBeNull();
    }
    const history = (await getBug(id)).history.filter((h: { actor: string }) => h.actor === 'sweep');
    expect(history).toHaveLength(3);
    expect(history[2].note).toContain('expired (3 of 3)');
  });

  it('stores repair reports and PR info from the agent', async () => {
    const project = uniqueProject();
    const { id } = await newBug(project);
    await claim('agent-r', project);
    const report = await lc.api(`/api/v1/bugs/${id}/repair-reports`, {
      method: 'POST',
      ...json({
        agent_id: 'agent-r',
        analysis: 'request.user may be None',
        modified_files: ['app/views.py', 'tests/test_views.py'],
        diff: '--- a/app/views.py\n+++ b/app/views.py\n@@ -24 +24,2 @@\n-x\n+y\n+z\n',
        test_passed: true,
        test_output: '2 passed',
        branch_name: 'fix/auto-20260225-1430-1',
        pr_number: 45,
        pr_url: 'https://gitea.airlabs.art/o/r/pulls/45',
        duration_ms: 123_000,
        tokens_in: 1000,
        tokens_out: 200,
        model: 'claude-sonnet',
      }),
    });
    expect(report.status).toBe(201);
    const pr = await lc.api(
      `/api/v1/bugs/${id}/pr-info?pr_number=45&pr_url=https://gitea.airlabs.art/o/r/pulls/45`,
      {
        method: 'PUT',
      },
    );
    expect(pr.status).toBe(200);
    expect((await setStatus(id, 'PENDING_REVIEW')).status).toBe(200);
    const bug = await getBug(id);
    expect(bug).toMatchObject({ status: 'PENDING_REVIEW', pr_number: 45, claimed_by: null });
    expect(bug.repair_reports[0]).toMatchObject({
      model: 'claude-sonnet',
      test_passed: true,
      modified_files: ['app/views.py', 'tests/test_views.py'],
    });
    const invalid = await lc.api(`/api/v1/bugs/${id}/repair-reports`, {
      method: 'POST',
      ...json({ modified_files: 'x' }),
    });
    expect(invalid.status).toBe(422);
  });
});

describe('Gitea webhook', () => {
  it('moves a merged PR to MERGED with the merge commit, matched by repository and number', async () => {
    const mergedAt = '2026-02-25T15:30:00Z';
    const { id } = await toMerged('airlabs', `rtc_${Date.now()}`, 45, 'C0FFEE'.padEnd(40, '1'));
    const bug = await getBug(id);
    expect(bug).toMatchObject({ status: 'MERGED', merge_commit_sha: 'c0ffee'.padEnd(40, '1') });
    expect(bug.merged_at).toBeTruthy();
    expect(bug.history.at(-1)).toMatchObject({
      from_status: 'PENDING_REVIEW',
      to_status: 'MERGED',
      actor: 'gitea',
    });
    expect(mergedAt).toBeTruthy();
  });

  it('fails the bug when its PR is closed without merging, on the /api/v1 path too', async () => {
    const project = uniqueProject();
    const repo = `web_${Date.now()}`;
    await lc.api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      ...json({ repo_url: `https://gitea.airlabs.art/team/${repo}` }),
    });
    const { id } = await newBug(project);
    await claim('a', project);
    await lc.api(`/api/v1/bugs/${id}/pr-info`, { method: 'PUT', ...json({ pr_number: 7 }) });
    await setStatus(id, 'PENDING_REVIEW');
    const res = await sendGitea(
      giteaPullRequestPayload({ owner: 'team', repo, number: 7, action: 'closed', merged: false }),
      GITEA_SECRET,
      '/api/v1/webhooks/gitea',
    );
    expect((await res.json()).updated).toEqual([{ id, status: 'FAILED' }]);
  });

  it('does not touch a bug with the same PR number in another repository', async () => {
    const { id } = await toMerged('team', `a_${Date.now()}`, 11, 'a'.repeat(40));
    const other = await sendGitea(
      giteaPullRequestPayload({
        owner: 'team',
        repo: 'unrelated',
        number: 11,
        action: 'closed',
        merged: false,
      }),
    );
    expect((await other.json()).updated).toEqual([]);
    expect((await getBug(id)).status).toBe('MERGED');
  });

  it('refuses a bad or missing signature and changes nothing', async () => {
    const project = uniqueProject();
    const repo = `sig_${Date.now()}`;
    await lc.api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      ...json({ repo_url: `https://gitea.airlabs.art/o/${repo}.git` }),
    });
    const { id } = await newBug(project);
    await claim('a', project);
    await lc.api(`/api/v1/bugs/${id}/pr-info`, { method: 'PUT', ...json({ pr_number: 3 }) });
    await setStatus(id, 'PENDING_REVIEW');
    const payload = giteaPullRequestPayload({ owner: 'o', repo, number: 3, action: 'closed', merged: true });
    const wrong = await sendGitea(payload, 'not-the-secret');
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe('invalid_signature');
    const unsigned = await fetch(`${lc.url}/api/webhooks/gitea`, {
      method: 'POST',
      body: JSON.stringify(payload),
    });
    expect(unsigned.status).toBe(401);
    // a body altered after signing
    const body = JSON.stringify(payload);
    const tampered = await fetch(`${lc.url}/api/webhooks/gitea`, {
      method: 'POST',
      headers: { 'X-Gitea-Signature': signGitea(body, GITEA_SECRET) },
      body: body.replace('"merged":true', '"merged":false'),
    });
    expect(tampered.status).toBe(401);
    expect((await getBug(id)).status).toBe('PENDING_REVIEW');
  });

  it('ignores other actions', async () => {
    const res = await sendGitea(
      giteaPullRequestPayload({ owner: 'o', repo: 'r', number: 1, action: 'opened', merged: false }),
    );
    expect(res.status).toBe(200);
    expect((await res.json()).message).toContain('ignored');
  });
});

describe('deploy webhook and regressions', () => {
  it('deploys MERGED bugs merged before the deploy, and a recurrence reopens them', async () => {
    const { id, project } = await toMerged('o', `d_${Date.now()}`, 5, 'd'.repeat(40));
    const wrong = await deploy({ project_id: project, status: 'success', commit: 'd'.repeat(40) }, 'nope');
    expect(wrong.status).toBe(401);
    expect((await getBug(id)).status).toBe('MERGED');

    const early = await deploy({
      project_id: project,
      status: 'success',
      commit: 'x',
      deployed_at: '2000-01-01T00:00:00Z',
    });
    expect((await early.json()).updated).toEqual([]);
    const res = await deploy({ project_id: project, status: 'success', commit: 'd'.repeat(40) });
    expect((await res.json()).updated).toEqual([{ id, status: 'DEPLOYED' }]);
    expect((await getBug(id)).deployed_at).toBeTruthy();

    const again = await (await lc.report(runtimeReport(project))).json();
    expect(again).toEqual({ message: 'Regression detected, reopened', id });
    const bug = await getBug(id);
    expect(bug).toMatchObject({ status: 'NEW', regression_count: 1, occurrence_count: 2 });
    expect(bug.history.at(-1)).toMatchObject({ from_status: 'DEPLOYED', to_status: 'NEW', actor: 'ingest' });
    expect(await (await lc.report(runtimeReport(project))).json()).toMatchObject({
      message: 'Log deduplicated',
      status: 'NEW',
    });
  });

  it('keeps a MERGED bug merged on recurrence unless the report runs the merge commit', async () => {
    const merge = 'e'.repeat(40);
    const { id, project } = await toMerged('o', `m_${Date.now()}`, 6, merge);
    const old = await (await lc.report(runtimeReport(project, { commit_hash: '1234567' }))).json();
    expect(old).toEqual({ message: 'Log deduplicated', id, status: 'MERGED' });
    const onFix = await (await lc.report(runtimeReport(project, { commit_hash: merge.slice(0, 8) }))).json();
    expect(onFix).toEqual({ message: 'Regression detected, reopened', id });
    expect((await getBug(id)).history.at(-1)).toMatchObject({ from_status: 'MERGED', to_status: 'NEW' });
  });

  it('only counts reports for IGNORED and FAILED bugs', async () => {
    const { id, project } = await newBug();
    await setStatus(id, 'FAILED');
    expect(await (await lc.report(runtimeReport(project))).json()).toEqual({
      message: 'Log deduplicated',
      id,
      status: 'FAILED',
    });
    await setStatus(id, 'IGNORED');
    expect(await (await lc.report(runtimeReport(project))).json()).toEqual({
      message: 'Log deduplicated',
      id,
      status: 'IGNORED',
    });
    expect((await getBug(id)).occurrence_count).toBe(3);
  });

  it('answers 503 when a webhook secret is not configured', async () => {
    const bare = await startLogCenter();
    try {
      const res = await fetch(`${bare.url}/api/webhooks/deployment`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe('not_configured');
      expect((await fetch(`${bare.url}/api/webhooks/gitea`, { method: 'POST', body: '{}' })).status).toBe(
        503,
      );
    } finally {
      await bare.stop();
    }
  });
});

describe('dashboard stats', () => {
  it('agrees with the bug list for the same filters', async () => {
    const project = uniqueProject();
    for (let line = 0; line < 4; line++) await newBug(project, line);
    await lc.report(cicdReport(project));
    const [first] = await claim('s', project);
    await setStatus(first!.id, 'FAILED');
    const stats = await (await lc.api(`/api/v1/dashboard/stats?project_id=${project}&days=7`)).json();
    for (const status of ['NEW', 'FIXING', 'FAILED', 'MERGED']) {
      const list = await (await lc.api(`/api/v1/bugs?project_id=${project}&status=${status}`)).json();
      expect(stats.totals.by_status[status]).toBe(list.total);
    }
    for (const source of ['runtime', 'cicd', 'deployment']) {
      const list = await (await lc.api(`/api/v1/bugs?project_id=${project}&source=${source}`)).json();
      expect(stats.source_distribution[source]).toBe(list.total);
    }
    expect(stats.totals.total).toBe(5);
    expect(stats.projects).toEqual([expect.objectContaining({ project_id: project, total: 5 })]);
    expect(stats.trend).toHaveLength(7);
    expect(stats.trend.at(-1)).toMatchObject({ new: 5, failed: 1 });
    expect(stats.today.new).toBe(5);
    expect(stats.fix_success_rate).toBe(0);

    const runtimeOnly = await (
      await lc.api(`/api/v1/dashboard/stats?project_id=${project}&source=runtime`)
    ).json();
    expect(runtimeOnly.totals.total).toBe(4);
    expect((await lc.api('/api/v1/dashboard/stats?days=0')).status).toBe(422);
  });
});

describe('API docs', () => {
  it('serves the OpenAPI document and a docs page', async () => {
    const doc = await (await fetch(`${lc.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/api/v1/logs/report',
      '/api/v1/tasks/claim',
      '/api/webhooks/gitea',
      '/api/v1/dashboard/stats',
    ]) {
      expect(doc.paths[path]).toBeDefined();
    }
    const page = await fetch(`${lc.url}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/openapi.json');
  });
});
