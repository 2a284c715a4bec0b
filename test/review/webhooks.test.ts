import { describe, expect, it } from 'vitest';
import { signGitea } from '../helpers/gitea';
import { activityOf, bugDetail, json, pendingBug, useReviewSuite, WEBHOOK_SECRET } from './support';

describe('Gitea review and comment webhooks', () => {
  const suite = useReviewSuite();

  const claim = async (project: string) => {
    const res = await suite.lc.api('/api/v1/tasks/claim', {
      method: 'POST',
      ...json({ agent_id: 'agent-2', project_id: project, limit: 5 }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: { id: number; status: string; pr_number: number | null }[] })
      .items;
  };

  it('a person asking for changes on Gitea: stored, FIXING, and the next claim hands it out as a follow-up', async () => {
    const bug = await pendingBug(suite);
    await suite.gitea.review(bug.owner, bug.repo, bug.pr, {
      login: 'alice',
      event: 'REQUEST_CHANGES',
      body: 'Handle a null price too',
    });
    const delivery = suite.gitea.deliveries.at(-1)!;
    expect([delivery.event, delivery.eventType, delivery.status]).toEqual([
      'pull_request_rejected',
      'pull_request_review_rejected',
      200,
    ]);
    expect(JSON.parse(delivery.response)).toMatchObject({
      updated: [{ id: bug.id, status: 'FIXING' }],
      recorded: [bug.id],
    });

    const detail = await bugDetail(suite.lc, bug.id);
    expect(detail).toMatchObject({
      status: 'FIXING',
      claimed_by: null,
      lease_expires_at: null,
      pr_number: bug.pr,
    });
    expect(detail.activity).toMatchObject([
      {
        kind: 'gitea_review',
        actor: 'gitea:alice',
        body: 'Handle a null price too',
        data: { state: 'REQUEST_CHANGES', pr_number: bug.pr },
      },
    ]);

    // The follow-up comes first, a NEW bug of the same project after it.
    const fresh = await suite.lc.report({
      project_id: bug.project,
      environment: 'production',
      level: 'ERROR',
      error: {
        type: 'RangeError',
        message: 'other',
        file_path: 'b.js',
        line_number: 3,
        stack_trace: ['RangeError: other'],
      },
    });
    const freshId = (await fresh.json()).id as number;
    const claimed = await claim(bug.project);
    expect(claimed.map((b) => [b.id, b.status, b.pr_number])).toEqual([
      [bug.id, 'FIXING', bug.pr],
      [freshId, 'FIXING', null],
    ]);
    const after = await bugDetail(suite.lc, bug.id);
    expect(after.claimed_by).toBe('agent-2');
    expect(after.lease_expires_at).not.toBeNull();
    expect(after.history.at(-1)).toMatchObject({
      from_status: 'FIXING',
      to_status: 'FIXING',
      actor: 'agent:agent-2',
    });
    expect(after.history.at(-1)!.note).toMatch(/^claimed for review follow-up, lease until /);
    // Held now: nobody else gets it.
    expect(await claim(bug.project)).toEqual([]);

    // The agent pushes a follow-up commit and reports again: the same PR is back in review.
    const again = await suite.lc.api(`/api/v1/bugs/${bug.id}/status`, {
      method: 'PUT',
      ...json({ status: 'PENDING_REVIEW', note: `PR #${bug.pr} updated`, actor: 'agent-2' }),
    });
    expect(again.status).toBe(200);
    expect((await again.json()).pr_number).toBe(bug.pr);
  });

  it('two agents claiming at once never both get the same follow-up', async () => {
    const bug = await pendingBug(suite);
    await suite.gitea.review(bug.owner, bug.repo, bug.pr, {
      login: 'alice',
      event: 'REQUEST_CHANGES',
      body: 'again',
    });
    const [one, two] = await Promise.all([claim(bug.project), claim(bug.project)]);
    expect([...one, ...two].map((b) => b.id)).toEqual([bug.id]);
  });

  it('approvals and review comments are stored without moving the bug', async () => {
    const bug = await pendingBug(suite);
    await suite.gitea.review(bug.owner, bug.repo, bug.pr, {
      login: 'bob',
      event: 'COMMENT',
      body: 'Why not a guard clause?',
    });
    await suite.gitea.review(bug.owner, bug.repo, bug.pr, { login: 'carol', event: 'APPROVED', body: '' });
    expect(suite.gitea.deliveries.slice(-2).map((d) => d.event)).toEqual([
      'pull_request_comment',
      'pull_request_approved',
    ]);
    const detail = await bugDetail(suite.lc, bug.id);
    expect(detail.status).toBe('PENDING_REVIEW');
    expect(detail.activity.map((a) => [a.actor, a.body, a.data.state])).toEqual([
      ['gitea:bob', 'Why not a guard clause?', 'COMMENT'],
      ['gitea:carol', null, 'APPROVED'],
    ]);
  });

  it('changes requested on a bug that already left review: stored, status kept', async () => {
    const bug = await pendingBug(suite);
    const merge = await suite.lc.api(`/api/v1/bugs/${bug.id}/review`, {
      method: 'POST',
      ...json({ action: 'approve_and_merge' }),
    });
    expect(merge.status).toBe(200);
    await suite.gitea.settled();
    await suite.gitea.review(bug.owner, bug.repo, bug.pr, {
      login: 'late',
      event: 'REQUEST_CHANGES',
      body: 'too late',
    });
    expect(JSON.parse(suite.gitea.deliveries.at(-1)!.response).skipped).toEqual([
      { id: bug.id, status: 'MERGED', reason: 'changes requested while MERGED; status kept' },
    ]);
    expect((await bugDetail(suite.lc, bug.id)).status).toBe('MERGED');
  });

  it('a comment on the PR conversation is stored with its id and link', async () => {
    const bug = await pendingBug(suite);
    const comment = await suite.gitea.comment(bug.owner, bug.repo, bug.pr, {
      login: 'dave',
      body: 'Could you rename `total` to `cartTotal`?',
    });
    expect(suite.gitea.deliveries.at(-1)).toMatchObject({ event: 'issue_comment', status: 200 });
    expect(await activityOf(suite.lc, bug.id)).toMatchObject([
      {
        kind: 'gitea_comment',
        actor: 'gitea:dave',
        body: 'Could you rename `total` to `cartTotal`?',
        data: { comment_id: comment.id, html_url: comment.html_url, pr_number: bug.pr },
      },
    ]);
  });

  it('a comment on a plain issue with the same number, or an edited comment, is ignored', async () => {
    const bug = await pendingBug(suite);
    const repository = {
      full_name: `${bug.owner}/${bug.repo}`,
      html_url: `${suite.gitea.url}/${bug.owner}/${bug.repo}`,
    };
    const base = {
      action: 'created',
      issue: { id: 1, number: bug.pr, title: 'a plain issue', pull_request: null },
      comment: { id: 77, body: 'on an issue', user: { login: 'erin' } },
      repository,
      sender: { login: 'erin' },
      is_pull: false,
    };
    const plain = await suite.gitea.deliver('issue_comment', 'issue_comment', base);
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.response).message).toBe('Comment on an issue, not a pull request: ignored');
    const edited = await suite.gitea.deliver('issue_comment', 'pull_request_comment', {
      ...base,
      action: 'edited',
      is_pull: true,
    });
    expect(JSON.parse(edited.response).message).toContain('ignored');
    expect(await activityOf(suite.lc, bug.id)).toEqual([]);
  });

  it('a review of a PR no bug has, or of an unknown repository, changes nothing', async () => {
    const bug = await pendingBug(suite);
    const other = suite.gitea.addPull(bug.owner, bug.repo);
    await suite.gitea.review(bug.owner, bug.repo, other.number, {
      login: 'x',
      event: 'REQUEST_CHANGES',
      body: 'no',
    });
    expect(JSON.parse(suite.gitea.deliveries.at(-1)!.response)).toMatchObject({
      message: `No bug has PR #${other.number}`,
    });
    const stray = suite.gitea.addPull('nobody', 'nothing');
    await suite.gitea.review('nobody', 'nothing', stray.number, {
      login: 'x',
      event: 'REQUEST_CHANGES',
      body: 'no',
    });
    expect(JSON.parse(suite.gitea.deliveries.at(-1)!.response).message).toBe(
      'No project has this repository',
    );
    expect((await bugDetail(suite.lc, bug.id)).status).toBe('PENDING_REVIEW');
    expect(await activityOf(suite.lc, bug.id)).toEqual([]);
  });

  it('a bad or missing signature is refused and stores nothing', async () => {
    const bug = await pendingBug(suite);
    const body = JSON.stringify({
      action: 'reviewed',
      pull_request: { number: bug.pr },
      repository: { full_name: `${bug.owner}/${bug.repo}` },
      sender: { login: 'mallory' },
      review: { type: 'pull_request_review_rejected', content: 'forged' },
    });
    for (const signature of [signGitea(body, 'not-the-secret'), undefined, 'zz']) {
      const res = await suite.lc.fetch('/api/v1/webhooks/gitea', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Gitea-Event': 'pull_request_rejected',
          ...(signature && { 'X-Gitea-Signature': signature }),
        },
        body,
      });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('invalid_signature');
    }
    // The same body, signed, is accepted: the refusals above were the signature's.
    const signed = await suite.lc.fetch('/api/v1/webhooks/gitea', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Gitea-Event': 'pull_request_rejected',
        'X-Gitea-Signature': signGitea(body, WEBHOOK_SECRET),
      },
      body,
    });
    expect(signed.status).toBe(200);
    expect((await activityOf(suite.lc, bug.id)).map((a) => a.actor)).toEqual(['gitea:mallory']);
  });

  it('a signed review payload of the wrong shape: 422, nothing stored', async () => {
    const bug = await pendingBug(suite);
    const body = JSON.stringify({ action: 'reviewed', pull_request: { number: 'seven' }, repository: {} });
    const res = await suite.lc.fetch('/api/v1/webhooks/gitea', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Gitea-Event': 'pull_request_approved',
        'X-Gitea-Signature': signGitea(body, WEBHOOK_SECRET),
      },
      body,
    });
    expect(res.status).toBe(422);
    expect(await activityOf(suite.lc, bug.id)).toEqual([]);
  });
});
