import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { giteaPullRequestPayload } from '../helpers/gitea';
import { cicdReport, runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import { GITEA_SECRET, json, lifecycleActions, startWithWebhooks } from './lifecycle-support';

// The bug lifecycle as the agent, Gitea and the deploy pipeline drive it. Refusals are in
// lifecycle.error.test.ts, authentication and signatures in lifecycle.security.test.ts.

let lc: LogCenterHandle;
beforeAll(async () => {
  lc = await startWithWebhooks();
});
afterAll(() => lc.stop());

const { setStatus, getBug, newBug, claim, sendGitea, deploy, toMerged } = lifecycleActions(() => lc);

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
    expect(bug.history.map((h) => `${h.from_status}->${h.to_status}`)).toEqual([
      'null->NEW',
      'NEW->IGNORED',
      'IGNORED->NEW',
    ]);
    expect(bug.history[1]).toMatchObject({ actor: 'user', note: 'noise', at: expect.any(String) });
  });

  it('maps legacy names on input', async () => {
    const { id } = await newBug();
    const res = await setStatus(id, 'fix_failed');
    expect((await res.json()).status).toBe('FAILED');
    expect((await (await setStatus(id, 'PENDING_FIX')).json()).status).toBe('NEW');
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
        expect(Date.parse(bug.lease_expires_at ?? '')).toBeGreaterThan(Date.now());
      }
    }
    expect(await claim('late', project)).toEqual([]);
    const pending = await (await lc.api(`/api/v1/tasks/pending?project_id=${project}`)).json();
    expect(pending.items).toEqual([]);
  });

  it('hands out a review follow-up (FIXING, unclaimed, with a PR) before NEW bugs, within the limit', async () => {
    const project = uniqueProject();
    const { id: reviewed } = await newBug(project, 1);
    await claim('agent-a', project);
    await lc.api(`/api/v1/bugs/${reviewed}/pr-info`, {
      method: 'PUT',
      body: JSON.stringify({ pr_number: 12 }),
    });
    expect((await setStatus(reviewed, 'PENDING_REVIEW', 'PR #12')).status).toBe(200);
    // A bug held by an agent.
    const { id: held } = await newBug(project, 2);
    expect((await claim('agent-b', project)).map((b) => b.id)).toEqual([held]);
    // A reviewer sends the first back (on Gitea, by webhook, or a person here): unclaimed, PR kept.
    const back = await setStatus(reviewed, 'FIXING', 'rename the helper');
    expect(back.status).toBe(200);
    expect(await back.json()).toMatchObject({ status: 'FIXING', claimed_by: null, pr_number: 12 });
    const { id: fresh } = await newBug(project, 3);

    const first = await claim('agent-c', project, 1);
    expect(first.map((b) => [b.id, b.claimed_by, b.pr_number])).toEqual([[reviewed, 'agent-c', 12]]);
    expect((await getBug(reviewed)).history.at(-1)).toMatchObject({
      from_status: 'FIXING',
      to_status: 'FIXING',
      actor: 'agent:agent-c',
    });
    expect((await claim('agent-d', project, 5)).map((b) => b.id)).toEqual([fresh]);
    expect((await getBug(held)).claimed_by).toBe('agent-b');
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
    const history = (await getBug(id)).history.filter((h) => h.actor === 'sweep');
    expect(history).toHaveLength(3);
    expect(history[2]?.note).toContain('expired (3 of 3)');
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
    const doc = await (await lc.fetch('/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/api/v1/logs/report',
      '/api/v1/tasks/claim',
      '/api/webhooks/gitea',
      '/api/v1/dashboard/stats',
    ]) {
      expect(doc.paths[path]).toBeDefined();
    }
    const page = await lc.fetch('/docs');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/docs/init.js');
    expect(await (await lc.fetch('/docs/init.js')).text()).toContain('/openapi.json');
  });
});
