import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogCenterApp } from '../helpers/app';
import type { LogCenterHandle } from '../helpers/server';
import { activityOf, bugDetail, json, pendingBug, review, useReviewSuite } from './support';

interface ErrorBody {
  error: {
    code: string;
    message: string;
    request_id: string;
    step?: string;
    gitea_status?: number;
    approved?: boolean;
  };
}

/** The failure answer, and proof that nothing was stored and the status did not move. */
async function refused(
  lc: LogCenterHandle,
  res: Response,
  bugId: number,
  status: number,
): Promise<ErrorBody['error']> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error.request_id).toBeTruthy();
  expect(await activityOf(lc, bugId)).toEqual([]);
  expect((await bugDetail(lc, bugId)).status).toBe('PENDING_REVIEW');
  return body.error;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe('Gitea refuses: its reason is shown and nothing is stored', () => {
  // No webhooks here: what Gitea would send after a success is not the point.
  const suite = useReviewSuite({ webhooks: false });

  it('405 when the PR is not mergeable: the approval went through, the merge did not', async () => {
    const bug = await pendingBug(suite, { pull: { mergeable: false } });
    const error = await refused(
      suite.lc,
      await review(suite.lc, bug.id, { action: 'approve_and_merge' }),
      bug.id,
      502,
    );
    expect(error).toMatchObject({
      code: 'gitea_failed',
      message: 'Gitea refused the merge (405): Please try again later',
      step: 'merge',
      gitea_status: 405,
      approved: true,
    });
    expect(suite.gitea.pull(bug.owner, bug.repo, bug.pr)!.merged).toBe(false);
  });

  it('409 on a merge conflict', async () => {
    const bug = await pendingBug(suite, { pull: { conflict: true } });
    const error = await refused(
      suite.lc,
      await review(suite.lc, bug.id, { action: 'approve_and_merge' }),
      bug.id,
      502,
    );
    expect(error.message).toBe('Gitea refused the merge (409): merge failed because of conflict');
    expect(error.gitea_status).toBe(409);
  });

  it('404 when Gitea has no such PR', async () => {
    const bug = await pendingBug(suite, { pull: false });
    for (const action of ['approve', 'approve_and_merge', 'close']) {
      const error = await refused(suite.lc, await review(suite.lc, bug.id, { action }), bug.id, 502);
      expect(error.message).toMatch(
        /^Gitea refused the (review|close) \(404\): The target couldn't be found\.$/,
      );
    }
  });

  it("422 with Gitea's validation message (approving a PR the token's own user opened)", async () => {
    const bug = await pendingBug(suite);
    suite.gitea.pull(bug.owner, bug.repo, bug.pr)!.poster = suite.gitea.login;
    const error = await refused(suite.lc, await review(suite.lc, bug.id, { action: 'approve' }), bug.id, 502);
    expect(error.message).toBe('Gitea refused the review (422): approve your own pull is not allowed');
  });

  it('a Gitea 500 with a long HTML body: one line, trimmed to 300 characters', async () => {
    const bug = await pendingBug(suite);
    suite.gitea.fail({ path: /\/reviews$/, status: 500, message: `<html>\n${'x'.repeat(1000)}\n</html>` });
    const error = await refused(suite.lc, await review(suite.lc, bug.id, { action: 'approve' }), bug.id, 502);
    const reason = error.message.replace('Gitea refused the review (500): ', '');
    expect(reason.length).toBe(300);
    expect(reason).not.toContain('\n');
    expect(reason.startsWith('<html> xxx')).toBe(true);
  });

  it('a redirect is not followed', async () => {
    const bug = await pendingBug(suite);
    suite.gitea.fail({ path: /\/reviews$/, status: 302, message: 'moved' });
    const error = await refused(suite.lc, await review(suite.lc, bug.id, { action: 'approve' }), bug.id, 502);
    expect(error.message).toContain('redirect (302), which is not followed');
  });

  it('a Gitea that never answers: the action fails after GITEA_TIMEOUT_SECONDS', async () => {
    const bug = await pendingBug(suite);
    suite.gitea.fail({ path: /\/reviews$/, hang: true });
    const started = Date.now();
    const error = await refused(suite.lc, await review(suite.lc, bug.id, { action: 'approve' }), bug.id, 502);
    expect(error.message).toBe('Gitea did not answer the review within 2 s');
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('a failure on the second call of close (comment posted, close refused) stores nothing', async () => {
    const bug = await pendingBug(suite);
    suite.gitea.fail({
      method: 'PATCH',
      path: /\/pulls\/\d+$/,
      status: 403,
      message: 'user should have permission to edit',
    });
    const error = await refused(
      suite.lc,
      await review(suite.lc, bug.id, { action: 'close', note: 'not needed' }),
      bug.id,
      502,
    );
    expect(error.message).toBe('Gitea refused the close (403): user should have permission to edit');
  });
});

describe('Gitea settings that cannot work', () => {
  const suite = useReviewSuite({ webhooks: false });
  const others: LogCenterHandle[] = [];
  afterAll(async () => {
    for (const lc of others) await lc.stop();
  });
  /** A second Log Center on the same data as the suite's, with other Gitea settings. */
  async function sameData(env: Record<string, string>) {
    const lc = await startLogCenterApp({
      env: { LIBSQL_URL: suite.lc.server.databaseUrl, ALERT_ALLOW_PRIVATE_TARGETS: 'true', ...env },
    });
    others.push(lc);
    return lc;
  }

  it("a wrong token: Gitea's 401, and the token never appears in the answer", async () => {
    const bug = await pendingBug(suite);
    const wrong = 'wrong-token-must-not-leak';
    const lc = await sameData({ GITEA_URL: suite.gitea.url, GITEA_TOKEN: wrong });
    const res = await review(lc, bug.id, { action: 'approve' });
    const text = await res.clone().text();
    expect(text).not.toContain(wrong);
    const error = await refused(lc, res, bug.id, 502);
    expect(error.message).toBe('Gitea refused the review (401): user does not exist [uid: 0, name: ]');
  });

  it('a closed port: Gitea could not be reached', async () => {
    const bug = await pendingBug(suite);
    const lc = await sameData({
      GITEA_URL: `http://127.0.0.1:${await closedPort()}`,
      GITEA_TOKEN: 'some-token',
    });
    const error = await refused(lc, await review(lc, bug.id, { action: 'approve_and_merge' }), bug.id, 502);
    expect(error.message).toBe('Gitea could not be reached for the review: ECONNREFUSED');
  });

  it('not configured: 503 naming what is missing, for one bug and for a batch', async () => {
    const bug = await pendingBug(suite);
    const lc = await sameData({ GITEA_URL: suite.gitea.url });
    const one = await refused(lc, await review(lc, bug.id, { action: 'approve' }), bug.id, 503);
    expect(one).toMatchObject({ code: 'not_configured' });
    expect(one.message).toContain('GITEA_TOKEN');
    expect(one.message).not.toContain('GITEA_URL');
    const none = await sameData({});
    const batch = await none.api('/api/v1/bugs/review', {
      method: 'POST',
      ...json({ ids: [bug.id], action: 'approve' }),
    });
    expect(batch.status).toBe(503);
    expect((await batch.json()).error.message).toContain('GITEA_URL and GITEA_TOKEN');
  });

  it('a GITEA_URL on the private network is refused unless ALERT_ALLOW_PRIVATE_TARGETS', async () => {
    const bug = await pendingBug(suite);
    const lc = await sameData({
      GITEA_URL: suite.gitea.url,
      GITEA_TOKEN: suite.gitea.token,
      ALERT_ALLOW_PRIVATE_TARGETS: 'false',
    });
    const calls = suite.gitea.calls.length;
    const error = await refused(lc, await review(lc, bug.id, { action: 'approve' }), bug.id, 503);
    expect(error.message).toContain('ALERT_ALLOW_PRIVATE_TARGETS=true');
    expect(suite.gitea.calls.length).toBe(calls);
  });

  it('a GITEA_URL that is not http(s) stops the server at start-up', async () => {
    await expect(startLogCenterApp({ env: { GITEA_URL: 'ftp://gitea.example.com' } })).rejects.toThrow(
      /GITEA_URL: must be an http or https URL/,
    );
  });
});

describe('what a review action refuses before calling Gitea', () => {
  const suite = useReviewSuite({ webhooks: false });
  let bugId: number;
  beforeAll(async () => {
    bugId = (await pendingBug(suite)).id;
  });
  const noCalls = async (run: () => Promise<Response>, status: number, code: string) => {
    const before = suite.gitea.calls.length;
    const res = await run();
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(status);
    expect(body.error.code).toBe(code);
    expect(suite.gitea.calls.length).toBe(before);
    return body.error as ErrorBody['error'] & { details?: { path: string; message: string }[] };
  };

  it('a bug that is not in PENDING_REVIEW: 409 conflict', async () => {
    const { lc } = suite;
    const res = await lc.report({
      project_id: 'rv_state_check',
      environment: 'production',
      level: 'ERROR',
      error: { type: 'E', message: 'm', file_path: 'a.js', line_number: 1, stack_trace: ['E: m'] },
    });
    const { id } = await res.json();
    const error = await noCalls(() => review(lc, id, { action: 'approve' }), 409, 'conflict');
    expect(error.message).toBe(`Bug ${id} is NEW; review actions apply to a bug in PENDING_REVIEW`);
  });

  it('a bug in PENDING_REVIEW without a PR: 409', async () => {
    const { lc } = suite;
    const bug = await pendingBug(suite);
    await lc.api(`/api/v1/bugs/${bug.id}/pr-info`, { method: 'PUT', ...json({ pr_number: null }) });
    const error = await noCalls(() => review(lc, bug.id, { action: 'approve' }), 409, 'conflict');
    expect(error.message).toBe(`Bug ${bug.id} has no pull request to review`);
  });

  it('a project without a Gitea repository: 409', async () => {
    const { lc } = suite;
    const bug = await pendingBug(suite);
    await lc.api(`/api/v1/projects/${bug.project}`, { method: 'PUT', ...json({ repo_url: null }) });
    const error = await noCalls(() => review(lc, bug.id, { action: 'approve' }), 409, 'conflict');
    expect(error.message).toContain('has no repo_url naming a Gitea owner/repo');
  });

  it('an unknown bug: 404', async () => {
    await noCalls(() => review(suite.lc, 987654321, { action: 'approve' }), 404, 'not_found');
  });

  it('request_changes needs a note (blank does not count)', async () => {
    for (const note of [undefined, '', '   \n ']) {
      const error = await noCalls(
        () => review(suite.lc, bugId, { action: 'request_changes', note }),
        422,
        'validation_failed',
      );
      expect(error.details).toEqual([{ path: 'note', message: 'required for request_changes' }]);
    }
  });

  it('bad bodies: 422 or 400, each with the envelope', async () => {
    const { lc } = suite;
    const post = (body: string) => () => lc.api(`/api/v1/bugs/${bugId}/review`, { method: 'POST', body });
    await noCalls(post('{"action":"approve"'), 400, 'bad_request');
    await noCalls(post('[]'), 422, 'validation_failed');
    await noCalls(post('{"action":"merge_now"}'), 422, 'validation_failed');
    await noCalls(post('{"action":"approve","note":42}'), 422, 'validation_failed');
    await noCalls(
      post(JSON.stringify({ action: 'approve', note: 'x'.repeat(10_001) })),
      422,
      'validation_failed',
    );
    await noCalls(post('{"action":"approve","note":"a\\u0000b"}'), 422, 'validation_failed');
    await noCalls(post('{"action":"approve_and_merge","merge_style":"octopus"}'), 422, 'validation_failed');
    await noCalls(post('{"action":"approve","extra":true}'), 422, 'validation_failed');
    await noCalls(
      () => lc.api('/api/v1/bugs/abc/review', { method: 'POST', body: '{"action":"approve"}' }),
      422,
      'validation_failed',
    );
    const batch = (body: unknown) => () => lc.api('/api/v1/bugs/review', { method: 'POST', ...json(body) });
    await noCalls(batch({ ids: [], action: 'approve' }), 422, 'validation_failed');
    await noCalls(batch({ ids: [bugId, bugId], action: 'approve' }), 422, 'validation_failed');
    await noCalls(
      batch({ ids: Array.from({ length: 51 }, (_, i) => i + 1), action: 'approve' }),
      422,
      'validation_failed',
    );
    await noCalls(batch({ ids: [bugId], action: 'request_changes' }), 422, 'validation_failed');
    await noCalls(batch({ ids: ['1'], action: 'approve' }), 422, 'validation_failed');
    expect(await activityOf(lc, bugId)).toEqual([]);
  });
});

describe('hostile notes', () => {
  const suite = useReviewSuite({ webhooks: false });

  it('reach Gitea and the activity exactly as written, and harm nothing', async () => {
    const notes = [
      "'); DROP TABLE bugs; --",
      '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>',
      '\u202eevil\u202c ‮ 🧨 ∑ 中文 \r\n\t tabs',
      '{"action":"close"}',
      `${'long '.repeat(1999)}end!!`,
    ];
    for (const note of notes) {
      const bug = await pendingBug(suite);
      const res = await review(suite.lc, bug.id, { action: 'request_changes', note });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(suite.gitea.pull(bug.owner, bug.repo, bug.pr)!.reviews.at(-1)!.body).toBe(note);
      const rows = await activityOf(suite.lc, bug.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.body).toBe(note);
    }
    expect(notes.at(-1)!.length).toBe(10_000);
    // The bugs table is still there and still answers.
    const list = await suite.lc.api('/api/v1/bugs?page_size=1');
    expect(list.status).toBe(200);
    expect((await list.json()).total).toBeGreaterThanOrEqual(notes.length);
  });
});
