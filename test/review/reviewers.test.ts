import { describe, expect, it } from 'vitest';
import { startLogCenterApp } from '../helpers/app';
import {
  activityEventually,
  activityOf,
  bugDetail,
  callsFor,
  json,
  pendingBug,
  useReviewSuite,
} from './support';

describe('designated reviewers', () => {
  const suite = useReviewSuite({ stub: { users: ['alice', 'bob', 'carol'] } });

  it('are requested on the PR after the bug enters review, once per PR, even when it comes back', async () => {
    const bug = await pendingBug(suite, { project: { review_settings: { reviewers: ['alice', 'bob'] } } });
    const rows = await activityEventually(suite.lc, bug.id, (r) =>
      r.some((a) => a.kind === 'reviewers_requested'),
    );
    expect(rows).toMatchObject([
      {
        kind: 'reviewers_requested',
        actor: 'system',
        body: null,
        data: { pr_number: bug.pr, reviewers: ['alice', 'bob'] },
      },
    ]);
    const requests = suite.gitea.calls.filter((c) =>
      c.path.endsWith(`/${bug.owner}/${bug.repo}/pulls/${bug.pr}/requested_reviewers`),
    );
    expect(requests.map((c) => c.body)).toEqual([{ reviewers: ['alice', 'bob'] }]);
    expect(suite.gitea.pull(bug.owner, bug.repo, bug.pr)!.requested_reviewers).toEqual(['alice', 'bob']);

    // A reviewer asks for changes; the agent follows up on the same PR and reports again.
    await suite.gitea.review(bug.owner, bug.repo, bug.pr, {
      login: 'alice',
      event: 'REQUEST_CHANGES',
      body: 'rename it',
    });
    expect((await bugDetail(suite.lc, bug.id)).status).toBe('FIXING');
    await suite.lc.api('/api/v1/tasks/claim', {
      method: 'POST',
      ...json({ agent_id: 'agent-1', project_id: bug.project }),
    });
    const back = await suite.lc.api(`/api/v1/bugs/${bug.id}/status`, {
      method: 'PUT',
      ...json({ status: 'PENDING_REVIEW', note: 'follow-up pushed', actor: 'agent-1' }),
    });
    expect(back.status).toBe(200);
    // Give the deferred work its chance, then check it did not ask again.
    await new Promise((done) => setTimeout(done, 300));
    expect(callsFor(suite.gitea, bug).filter((c) => c.endsWith('/requested_reviewers'))).toHaveLength(1);
    expect((await activityOf(suite.lc, bug.id)).filter((a) => a.kind.startsWith('reviewers_'))).toHaveLength(
      1,
    );
  });

  it("a refusal is recorded with Gitea's reason, never failing the agent's request", async () => {
    const bug = await pendingBug(suite, { project: { review_settings: { reviewers: ['alice', 'zed'] } } });
    const rows = await activityEventually(suite.lc, bug.id, (r) => r.length > 0);
    expect(rows).toMatchObject([
      {
        kind: 'reviewers_request_failed',
        body: 'Gitea refused the reviewer request (404): user does not exist [uid: 0, name: zed]',
        data: { pr_number: bug.pr, reviewers: ['alice', 'zed'] },
      },
    ]);
  });

  it('a Gitea that hangs does not hold the status change', async () => {
    const bug = await pendingBug(suite, {
      project: { review_settings: { reviewers: ['carol'] } },
    });
    await activityEventually(suite.lc, bug.id, (r) => r.length > 0);
    // The next bug's request hangs; its status change still answers at once.
    suite.gitea.fail({ path: /\/requested_reviewers$/, hang: true });
    const started = Date.now();
    const slow = await pendingBug(suite, { project: { review_settings: { reviewers: ['carol'] } } });
    expect(Date.now() - started).toBeLessThan(1_500);
    const rows = await activityEventually(suite.lc, slow.id, (r) => r.length > 0);
    expect(rows[0]).toMatchObject({
      kind: 'reviewers_request_failed',
      body: 'Gitea did not answer the reviewer request within 2 s',
    });
  });

  it('no reviewers set: nothing is asked', async () => {
    const bug = await pendingBug(suite);
    await new Promise((done) => setTimeout(done, 200));
    expect(callsFor(suite.gitea, bug).some((c) => c.endsWith('/requested_reviewers'))).toBe(false);
    expect(await activityOf(suite.lc, bug.id)).toEqual([]);
  });

  it('Gitea not configured: nothing is asked, the agent is answered as usual', async () => {
    const bare = await startLogCenterApp({ env: { LIBSQL_URL: suite.lc.server.databaseUrl } });
    try {
      const bug = await pendingBug(
        { lc: bare, gitea: suite.gitea },
        { project: { review_settings: { reviewers: ['alice'] } } },
      );
      await new Promise((done) => setTimeout(done, 200));
      expect(callsFor(suite.gitea, bug).some((c) => c.endsWith('/requested_reviewers'))).toBe(false);
      expect(await activityOf(bare, bug.id)).toEqual([]);
    } finally {
      await bare.stop();
    }
  });
});
