import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { ActivitySchema, BugSchema } from '../../functions/routes/schemas';
import { bodyAs } from '../helpers/server';
import { activityOf, bugDetail, callsFor, json, pendingBug, review, useReviewSuite } from './support';

const ReviewAnswer = z.object({ message: z.string(), bug: BugSchema, activity: z.array(ActivitySchema) });

describe('review cockpit actions against a Gitea stand-in', () => {
  const suite = useReviewSuite();

  it('approve: one APPROVED review on Gitea with the note, recorded with the note; status untouched', async () => {
    const bug = await pendingBug(suite);
    const res = await review(suite.lc, bug.id, { action: 'approve', note: 'Looks right to me' });
    expect(res.status).toBe(200);
    const answer = await bodyAs(ReviewAnswer, res);
    expect(answer.message).toBe(`Approved PR #${bug.pr} on Gitea`);
    expect(answer.bug.status).toBe('PENDING_REVIEW');
    expect(answer.activity).toMatchObject([
      { kind: 'review_approved', actor: 'person', body: 'Looks right to me', data: { pr_number: bug.pr } },
    ]);

    const pull = suite.gitea.pull(bug.owner, bug.repo, bug.pr)!;
    expect(pull.reviews).toMatchObject([
      { user: 'log-center', state: 'APPROVED', body: 'Looks right to me' },
    ]);
    expect(pull.merged).toBe(false);
    const call = suite.gitea.calls.find((c) => c.path.endsWith(`/pulls/${bug.pr}/reviews`))!;
    expect(call.headers.authorization).toBe(`token ${suite.gitea.token}`);

    // Gitea's approved webhook arrives and is kept beside the cockpit's own row.
    await suite.gitea.settled();
    const detail = await bugDetail(suite.lc, bug.id);
    expect(detail.status).toBe('PENDING_REVIEW');
    expect(detail.activity.map((a) => a.kind).sort()).toEqual(['gitea_review', 'review_approved']);
    expect(detail.activity.find((a) => a.kind === 'gitea_review')).toMatchObject({
      actor: 'gitea:log-center',
      body: 'Looks right to me',
      data: { state: 'APPROVED', pr_number: bug.pr },
    });
  });

  it("approve_and_merge: review, then merge with the project's style; Gitea's webhook makes it MERGED", async () => {
    const bug = await pendingBug(suite, { project: { review_settings: { merge_style: 'squash' } } });
    const res = await review(suite.lc, bug.id, { action: 'approve_and_merge' });
    expect(res.status).toBe(200);
    const answer = await bodyAs(ReviewAnswer, res);
    expect(answer.bug.status).toBe('PENDING_REVIEW');
    expect(answer.activity.map((a) => [a.kind, a.body, a.data.merge_style])).toEqual([
      ['review_approved', null, undefined],
      ['merge_requested', null, 'squash'],
    ]);
    expect(callsFor(suite.gitea, bug)).toEqual([
      `POST /pulls/${bug.pr}/reviews`,
      `POST /pulls/${bug.pr}/merge`,
    ]);
    expect(suite.gitea.calls.find((c) => c.path.endsWith('/merge'))!.body).toEqual({ Do: 'squash' });

    await suite.gitea.settled();
    const detail = await bugDetail(suite.lc, bug.id);
    expect(detail.status).toBe('MERGED');
    expect(detail.merge_commit_sha).toBe(suite.gitea.pull(bug.owner, bug.repo, bug.pr)!.merge_commit_sha);
    expect(detail.history.at(-1)).toMatchObject({
      from_status: 'PENDING_REVIEW',
      to_status: 'MERGED',
      actor: 'gitea',
    });
  });

  it('a merge style given with the action wins over the project default', async () => {
    const bug = await pendingBug(suite);
    const res = await review(suite.lc, bug.id, { action: 'approve_and_merge', merge_style: 'rebase' });
    expect(res.status).toBe(200);
    expect(suite.gitea.pull(bug.owner, bug.repo, bug.pr)!.merge_style).toBe('rebase');
  });

  it('request_changes: a REQUEST_CHANGES review with the note; the webhook sends the bug back to FIXING', async () => {
    const bug = await pendingBug(suite);
    const note = 'Please also cover an empty cart in the test';
    const res = await review(suite.lc, bug.id, { action: 'request_changes', note });
    expect(res.status).toBe(200);
    const answer = await bodyAs(ReviewAnswer, res);
    expect(answer.message).toContain('FIXING');
    expect(answer.activity).toMatchObject([
      { kind: 'review_changes_requested', actor: 'person', body: note },
    ]);
    expect(suite.gitea.pull(bug.owner, bug.repo, bug.pr)!.reviews).toMatchObject([
      { state: 'REQUEST_CHANGES', body: note },
    ]);

    await suite.gitea.settled();
    const detail = await bugDetail(suite.lc, bug.id);
    expect(detail.status).toBe('FIXING');
    expect(detail.claimed_by).toBeNull();
    expect(detail.lease_expires_at).toBeNull();
    expect(detail.pr_number).toBe(bug.pr);
    expect(detail.history.at(-1)).toMatchObject({
      from_status: 'PENDING_REVIEW',
      to_status: 'FIXING',
      actor: 'gitea',
      note: `changes requested on PR #${bug.pr} by log-center`,
    });
    expect(detail.activity.map((a) => a.kind).sort()).toEqual(['gitea_review', 'review_changes_requested']);
  });

  it('close with a note: the note as a PR comment first, then the PR closed; the webhook makes it FAILED', async () => {
    const bug = await pendingBug(suite);
    const res = await review(suite.lc, bug.id, { action: 'close', note: 'Superseded by a manual fix' });
    expect(res.status).toBe(200);
    const answer = await bodyAs(ReviewAnswer, res);
    expect(answer.activity).toMatchObject([
      { kind: 'pr_closed', actor: 'person', body: 'Superseded by a manual fix', data: { pr_number: bug.pr } },
    ]);
    expect(typeof answer.activity[0]!.data.comment_id).toBe('number');
    expect(callsFor(suite.gitea, bug)).toEqual([`POST /issues/${bug.pr}/comments`, `PATCH /pulls/${bug.pr}`]);
    const pull = suite.gitea.pull(bug.owner, bug.repo, bug.pr)!;
    expect(pull.state).toBe('closed');
    expect(pull.merged).toBe(false);

    await suite.gitea.settled();
    const detail = await bugDetail(suite.lc, bug.id);
    expect(detail.status).toBe('FAILED');
    // The cockpit's own comment comes back as a Gitea comment too (its webhook may well arrive
    // before the cockpit row is written): both are kept.
    expect(detail.activity.map((a) => a.kind).sort()).toEqual(['gitea_comment', 'pr_closed']);
    expect(detail.activity.find((a) => a.kind === 'gitea_comment')!.body).toBe('Superseded by a manual fix');
  });

  it('close without a note only closes', async () => {
    const bug = await pendingBug(suite);
    expect((await review(suite.lc, bug.id, { action: 'close' })).status).toBe(200);
    expect(callsFor(suite.gitea, bug)).toEqual([`PATCH /pulls/${bug.pr}`]);
    expect(suite.gitea.calls.find((c) => c.method === 'PATCH')!.body).toEqual({ state: 'closed' });
  });

  it('GET /bugs/:id/activity pages with after_id, oldest first; the detail shows the same rows', async () => {
    const bug = await pendingBug(suite);
    for (const body of ['first', 'second', 'third']) {
      await suite.gitea.comment(bug.owner, bug.repo, bug.pr, { login: 'reviewer', body });
    }
    const all = await activityOf(suite.lc, bug.id);
    expect(all.map((a) => a.body)).toEqual(['first', 'second', 'third']);
    expect(all.every((a) => a.kind === 'gitea_comment' && a.actor === 'gitea:reviewer')).toBe(true);
    expect((await activityOf(suite.lc, bug.id, all[0]!.id)).map((a) => a.body)).toEqual(['second', 'third']);
    expect(await activityOf(suite.lc, bug.id, all[2]!.id)).toEqual([]);
    expect((await bugDetail(suite.lc, bug.id)).activity).toEqual(all);

    const unknown = await suite.lc.api('/api/v1/bugs/99999999/activity');
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('not_found');
    const bad = await suite.lc.api(`/api/v1/bugs/${bug.id}/activity?after_id=-1`);
    expect(bad.status).toBe(422);
  });

  it('review_settings: defaults on every project, partial updates merge, null resets', async () => {
    const bug = await pendingBug(suite);
    const get = async () =>
      (await (await suite.lc.api(`/api/v1/projects/${bug.project}`)).json()).review_settings;
    expect(await get()).toEqual({
      reviewers: [],
      merge_style: 'merge',
      auto_approve: { enabled: false, max_changed_lines: 20, allowed_paths: [], merge: false },
    });
    const put = (review_settings: unknown) =>
      suite.lc.api(`/api/v1/projects/${bug.project}`, { method: 'PUT', ...json({ review_settings }) });
    expect((await put({ reviewers: ['alice', 'bob'] })).status).toBe(200);
    expect((await put({ auto_approve: { enabled: true, allowed_paths: ['src/'] } })).status).toBe(200);
    const merged = await get();
    expect(merged).toEqual({
      reviewers: ['alice', 'bob'],
      merge_style: 'merge',
      auto_approve: { enabled: true, max_changed_lines: 20, allowed_paths: ['src/'], merge: false },
    });
    // The list answers the same object.
    const list = await (await suite.lc.api('/api/v1/projects?page_size=200')).json();
    expect(list.items.find((p: { id: string }) => p.id === bug.project).review_settings).toEqual(merged);

    for (const bad of [
      { merge_style: 'octopus' },
      { reviewers: ['al ice'] },
      { reviewers: ['alice', 'ALICE'] },
      { auto_approve: { allowed_paths: ['../etc'] } },
      { auto_approve: { max_changed_lines: -1 } },
      { auto_approve: { surprise: true } },
      { unknown: 1 },
    ]) {
      const res = await put(bad);
      expect(res.status, JSON.stringify(bad)).toBe(422);
      expect((await res.json()).error.code).toBe('validation_failed');
    }
    expect(await get()).toEqual(merged);
    expect((await put(null)).status).toBe(200);
    expect((await get()).reviewers).toEqual([]);
  });

  it('the routes are in /openapi.json, guarded by the bearer token', async () => {
    const doc = await (await suite.lc.fetch('/openapi.json')).json();
    for (const [path, method] of [
      ['/api/v1/bugs/{id}/review', 'post'],
      ['/api/v1/bugs/review', 'post'],
      ['/api/v1/bugs/{id}/activity', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.security, path).toEqual([{ bearer: [] }]);
    }
    expect(doc.components.schemas.Activity).toBeDefined();
    expect(doc.components.schemas.Project.properties.review_settings).toBeDefined();
    const bare = await suite.lc.fetch('/api/v1/bugs/review', { method: 'POST', body: '{}' });
    expect(bare.status).toBe(401);
  });
});
