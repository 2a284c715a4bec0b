import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Gitea cannot run here, so this loopback server speaks the part of Gitea's API (v1, swagger at
 * /api/swagger) that Log Center and its agent call, with the status codes and error bodies Gitea
 * documents (`{"message": …, "url": …}`):
 *
 *   POST  /api/v1/repos/{owner}/{repo}/pulls                          create a PR (201; 409 when one exists for head→base; 422)
 *   GET   /api/v1/repos/{owner}/{repo}/pulls/{index}                  the PR (200)
 *   PATCH /api/v1/repos/{owner}/{repo}/pulls/{index}                  EditPullRequestOption, e.g. {state:"closed"} (201)
 *   POST  /api/v1/repos/{owner}/{repo}/pulls/{index}/reviews          CreatePullReviewOptions {event, body} (200 PullReview; 422)
 *   GET   /api/v1/repos/{owner}/{repo}/pulls/{index}/reviews          the reviews (200)
 *   POST  /api/v1/repos/{owner}/{repo}/pulls/{index}/merge            MergePullRequestOption {Do} (200; 405 not mergeable or
 *                                                                     already merged; 409 merge conflict; 422 bad style)
 *   POST  /api/v1/repos/{owner}/{repo}/pulls/{index}/requested_reviewers  {reviewers} (201; 404 unknown user; 422 own PR)
 *   POST  /api/v1/repos/{owner}/{repo}/issues/{index}/comments        {body} (201 Comment)
 *   GET   /api/v1/repos/{owner}/{repo}/issues/{index}/comments        the comments (200)
 *
 * Without `Authorization: token …` every call answers 401 "token is required"; a wrong token
 * 401 "user does not exist"; an unknown repository or PR 404 "The target couldn't be found.".
 *
 * With `webhookUrl`, it sends webhooks back as Gitea does (services/webhook/deliver.go): JSON
 * body, `X-Gitea-Event` (e.g. `pull_request_rejected`), `X-Gitea-Event-Type` (e.g.
 * `pull_request_review_rejected`), `X-Gitea-Delivery`, `X-GitHub-Event`, and, with a secret,
 * `X-Gitea-Signature` (hex HMAC-SHA256 of the body) and `X-Hub-Signature-256` (`sha256=` + the
 * same). Payloads follow modules/structs/hook.go: a merge sends `pull_request` action "closed"
 * with merged: true, a close `pull_request` "closed" with merged: false, a review
 * `PullRequestPayload` with action "reviewed" and `review: {type, content}`, a comment
 * `IssueCommentPayload` with `is_pull: true`.
 */

export interface GiteaStubOptions {
  /** Where to deliver webhooks (e.g. `${logCenter.url}/api/v1/webhooks/gitea`); none when unset. */
  webhookUrl?: string;
  /** Signs deliveries; without it they go unsigned (Log Center then refuses them). */
  webhookSecret?: string;
  /** The token Log Center must present. Default `gitea-stub-token`. */
  token?: string;
  /** The login the token belongs to (the reviewer/merger Log Center acts as). Default `log-center`. */
  login?: string;
  /** Users that exist, for requested_reviewers; unset means any name exists. */
  users?: string[];
}

export interface GiteaStubCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface GiteaStubDelivery {
  event: string;
  eventType: string;
  body: Record<string, unknown>;
  /** The receiver's HTTP status, or 0 when it could not be reached. */
  status: number;
  response: string;
}

export interface StubReview {
  id: number;
  user: string;
  state: 'APPROVED' | 'REQUEST_CHANGES' | 'COMMENT' | 'PENDING';
  body: string;
  submitted_at: string;
}

export interface StubComment {
  id: number;
  user: string;
  body: string;
  created_at: string;
  html_url: string;
}

export interface StubPull {
  owner: string;
  repo: string;
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  /** Who opened the PR (Gitea refuses a review or review request on one's own PR). */
  poster: string;
  state: 'open' | 'closed';
  merged: boolean;
  /** false: Gitea has not found it mergeable (merge answers 405). */
  mergeable: boolean;
  /** true: the merge hits a conflict (merge answers 409). */
  conflict: boolean;
  merge_style: string | null;
  merge_commit_sha: string | null;
  merged_at: string | null;
  reviews: StubReview[];
  comments: StubComment[];
  requested_reviewers: string[];
}

export interface AddPullOptions {
  number?: number;
  head?: string;
  base?: string;
  title?: string;
  poster?: string;
  mergeable?: boolean;
  conflict?: boolean;
}

/** A failure injected on the next matching call(s): a Gitea status with its message, or no answer at all. */
export interface StubFailure {
  method?: string;
  /** Matched against the path without the query, e.g. /\/merge$/. */
  path: RegExp;
  status?: number;
  message?: string;
  /** Never answer (the caller's timeout is the test). */
  hang?: boolean;
  /** How many calls it applies to; default 1. */
  times?: number;
}

export interface GiteaStub {
  url: string;
  token: string;
  login: string;
  calls: GiteaStubCall[];
  deliveries: GiteaStubDelivery[];
  addPull(owner: string, repo: string, pr?: AddPullOptions): StubPull;
  pull(owner: string, repo: string, number: number): StubPull | undefined;
  /** Makes the next matching call(s) fail as described. */
  fail(failure: StubFailure): void;
  /** A person reviews on Gitea's web page: recorded, and the review webhook is sent. */
  review(
    owner: string,
    repo: string,
    number: number,
    review: { login: string; event: 'APPROVED' | 'REQUEST_CHANGES' | 'COMMENT'; body: string },
  ): Promise<StubReview>;
  /** A person comments on the PR's conversation on Gitea: recorded, and issue_comment is sent. */
  comment(
    owner: string,
    repo: string,
    number: number,
    comment: { login: string; body: string },
  ): Promise<StubComment>;
  /** Sends an arbitrary signed webhook (e.g. a comment on a plain issue). */
  deliver(event: string, eventType: string, payload: Record<string, unknown>): Promise<GiteaStubDelivery>;
  /**
   * Points the webhooks at a receiver started after the stub (Log Center needs the stub's URL
   * in its environment before it starts, the stub needs Log Center's for its webhooks).
   */
  setWebhook(url: string | undefined, secret?: string): void;
  /** Resolves once every webhook sent so far has been answered. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const NOT_FOUND = "The target couldn't be found.";

export async function startGiteaStub(options: GiteaStubOptions = {}): Promise<GiteaStub> {
  const opts = { ...options };
  const token = opts.token ?? 'gitea-stub-token';
  const login = opts.login ?? 'log-center';
  const calls: GiteaStubCall[] = [];
  const deliveries: GiteaStubDelivery[] = [];
  const pulls = new Map<string, StubPull>();
  const nextNumber = new Map<string, number>();
  const failures: StubFailure[] = [];
  const pending = new Set<Promise<unknown>>();
  const hanging = new Set<ServerResponse>();
  let nextId = 1;
  let url = '';

  const repoKey = (owner: string, repo: string) => `${owner}/${repo}`.toLowerCase();
  const pullKey = (owner: string, repo: string, n: number) => `${repoKey(owner, repo)}#${n}`;
  const knownRepos = new Set<string>();

  const user = (name: string) => ({
    id: [...name].reduce((sum, ch) => sum + ch.charCodeAt(0), 0),
    login: name,
    username: name,
    full_name: '',
    email: `${name}@noreply.gitea`,
  });
  const repository = (owner: string, repo: string) => ({
    id: 42,
    owner: user(owner),
    name: repo,
    full_name: `${owner}/${repo}`,
    private: true,
    fork: false,
    html_url: `${url}/${owner}/${repo}`,
    clone_url: `${url}/${owner}/${repo}.git`,
    ssh_url: `git@${new URL(url).host}:${owner}/${repo}.git`,
    default_branch: 'main',
  });
  const pullJson = (pr: StubPull) => {
    const repo = repository(pr.owner, pr.repo);
    return {
      id: 9000 + pr.number,
      number: pr.number,
      url: `${url}/api/v1/repos/${pr.owner}/${pr.repo}/pulls/${pr.number}`,
      html_url: `${url}/${pr.owner}/${pr.repo}/pulls/${pr.number}`,
      diff_url: `${url}/${pr.owner}/${pr.repo}/pulls/${pr.number}.diff`,
      user: user(pr.poster),
      title: pr.title,
      body: pr.body,
      state: pr.state,
      mergeable: pr.mergeable && !pr.conflict,
      merged: pr.merged,
      merged_at: pr.merged_at,
      merge_commit_sha: pr.merge_commit_sha,
      merged_by: pr.merged ? user(login) : null,
      requested_reviewers: pr.requested_reviewers.map(user),
      base: { label: pr.base, ref: pr.base, sha: 'a'.repeat(40), repo_id: 42, repo },
      head: { label: pr.head, ref: pr.head, sha: 'b'.repeat(40), repo_id: 42, repo },
      closed_at: pr.state === 'closed' ? new Date().toISOString() : null,
    };
  };
  const reviewJson = (pr: StubPull, r: StubReview) => ({
    id: r.id,
    user: user(r.user),
    body: r.body,
    state: r.state,
    commit_id: 'b'.repeat(40),
    stale: false,
    official: true,
    dismissed: false,
    comments_count: 0,
    submitted_at: r.submitted_at,
    html_url: `${url}/${pr.owner}/${pr.repo}/pulls/${pr.number}#issuecomment-${r.id}`,
    pull_request_url: `${url}/${pr.owner}/${pr.repo}/pulls/${pr.number}`,
  });
  const commentJson = (pr: StubPull, c: StubComment) => ({
    id: c.id,
    html_url: c.html_url,
    pull_request_url: `${url}/${pr.owner}/${pr.repo}/pulls/${pr.number}`,
    issue_url: '',
    user: user(c.user),
    body: c.body,
    created_at: c.created_at,
    updated_at: c.created_at,
  });

  async function deliver(event: string, eventType: string, payload: Record<string, unknown>) {
    const body = JSON.stringify(payload);
    const record: GiteaStubDelivery = { event, eventType, body: payload, status: 0, response: '' };
    deliveries.push(record);
    if (!opts.webhookUrl) return record;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'Go-http-client/1.1',
      'X-Gitea-Delivery': randomUUID(),
      'X-Gitea-Event': event,
      'X-Gitea-Event-Type': eventType,
      'X-GitHub-Event': event,
      'X-GitHub-Event-Type': eventType,
    };
    if (opts.webhookSecret) {
      const signature = createHmac('sha256', opts.webhookSecret).update(body).digest('hex');
      headers['X-Gitea-Signature'] = signature;
      headers['X-Hub-Signature-256'] = `sha256=${signature}`;
    }
    const sending = (async () => {
      try {
        const res = await fetch(opts.webhookUrl!, { method: 'POST', headers, body });
        record.status = res.status;
        record.response = await res.text();
      } catch (error) {
        record.response = String(error);
      }
    })();
    pending.add(sending);
    await sending;
    pending.delete(sending);
    return record;
  }

  /** Webhooks go after the API answer, as Gitea queues them. */
  const later = (send: () => Promise<unknown>) => {
    const task = new Promise<void>((done) => setImmediate(done)).then(send);
    pending.add(task);
    void task.finally(() => pending.delete(task));
  };

  const pullPayload = (
    pr: StubPull,
    action: string,
    sender: string,
    extra: Record<string, unknown> = {},
  ) => ({
    action,
    number: pr.number,
    pull_request: pullJson(pr),
    repository: repository(pr.owner, pr.repo),
    sender: user(sender),
    commit_id: '',
    review: null,
    ...extra,
  });

  const REVIEW_EVENTS = {
    APPROVED: ['pull_request_approved', 'pull_request_review_approved'],
    REQUEST_CHANGES: ['pull_request_rejected', 'pull_request_review_rejected'],
    COMMENT: ['pull_request_comment', 'pull_request_review_comment'],
  } as const;

  function addReview(pr: StubPull, by: string, state: StubReview['state'], body: string): StubReview {
    const review: StubReview = {
      id: nextId++,
      user: by,
      state,
      body,
      submitted_at: new Date().toISOString(),
    };
    pr.reviews.push(review);
    if (state !== 'PENDING') {
      const [event, eventType] = REVIEW_EVENTS[state];
      later(() =>
        deliver(
          event,
          eventType,
          pullPayload(pr, 'reviewed', by, { review: { type: eventType, content: body } }),
        ),
      );
    }
    return review;
  }

  function addComment(pr: StubPull, by: string, body: string): StubComment {
    const id = nextId++;
    const comment: StubComment = {
      id,
      user: by,
      body,
      created_at: new Date().toISOString(),
      html_url: `${url}/${pr.owner}/${pr.repo}/pulls/${pr.number}#issuecomment-${id}`,
    };
    pr.comments.push(comment);
    later(() =>
      deliver('issue_comment', 'pull_request_comment', {
        action: 'created',
        issue: {
          id: 7000 + pr.number,
          number: pr.number,
          title: pr.title,
          state: pr.state,
          user: user(pr.poster),
          pull_request: { merged: pr.merged, merged_at: pr.merged_at, html_url: pullJson(pr).html_url },
          html_url: pullJson(pr).html_url,
        },
        pull_request: pullJson(pr),
        comment: commentJson(pr, comment),
        repository: repository(pr.owner, pr.repo),
        sender: user(by),
        is_pull: true,
      }),
    );
    return comment;
  }

  function addPull(owner: string, repo: string, options: AddPullOptions = {}): StubPull {
    const key = repoKey(owner, repo);
    knownRepos.add(key);
    const number = options.number ?? nextNumber.get(key) ?? 1;
    nextNumber.set(key, Math.max(nextNumber.get(key) ?? 1, number + 1));
    const pr: StubPull = {
      owner,
      repo,
      number,
      title: options.title ?? `fix: bug ${number}`,
      body: '',
      head: options.head ?? `fix/auto-${number}`,
      base: options.base ?? 'main',
      poster: options.poster ?? 'repair-agent',
      state: 'open',
      merged: false,
      mergeable: options.mergeable ?? true,
      conflict: options.conflict ?? false,
      merge_style: null,
      merge_commit_sha: null,
      merged_at: null,
      reviews: [],
      comments: [],
      requested_reviewers: [],
    };
    pulls.set(pullKey(owner, repo, number), pr);
    return pr;
  }

  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => {
      const fullPath = req.url ?? '/';
      const path = fullPath.split('?')[0]!;
      const method = req.method ?? 'GET';
      let body: Record<string, unknown> = {};
      let badJson = false;
      try {
        const parsed = JSON.parse(raw || '{}');
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed;
        else badJson = true;
      } catch {
        badJson = true;
      }
      calls.push({ method, path: fullPath, headers: req.headers, body });
      const send = (status: number, payload?: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8' });
        res.end(payload === undefined ? '' : JSON.stringify(payload));
      };
      const error = (status: number, message: string) => send(status, { message, url: `${url}/api/swagger` });

      const failure = failures.find((f) => (!f.method || f.method === method) && f.path.test(path));
      if (failure) {
        failure.times = (failure.times ?? 1) - 1;
        if (failure.times <= 0) failures.splice(failures.indexOf(failure), 1);
        if (failure.hang) {
          hanging.add(res);
          return;
        }
        return error(failure.status ?? 500, failure.message ?? 'internal server error');
      }

      const auth = req.headers.authorization ?? '';
      const presented = /^(?:token|Bearer) (.+)$/i.exec(auth)?.[1];
      if (!presented) return error(401, 'token is required');
      if (presented !== token) return error(401, 'user does not exist [uid: 0, name: ]');

      const m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/(pulls|issues)(?:\/(\d+)(?:\/([a-z_]+))?)?$/.exec(path);
      if (!m) return error(404, NOT_FOUND);
      const [owner, repo, kind, index, sub] = [m[1]!, m[2]!, m[3]!, m[4], m[5]];
      if (badJson && method !== 'GET') return error(422, 'invalid JSON body');

      if (kind === 'pulls' && index === undefined) {
        if (method !== 'POST') return error(405, 'Method Not Allowed');
        const { title, head, base } = body;
        if (typeof title !== 'string' || typeof head !== 'string' || typeof base !== 'string' || !title)
          return error(422, '[Head]: Required; [Base]: Required; [Title]: Required');
        const exists = [...pulls.values()].find(
          (p) =>
            repoKey(p.owner, p.repo) === repoKey(owner, repo) &&
            p.head === head &&
            p.base === base &&
            p.state === 'open',
        );
        if (exists)
          return error(
            409,
            `pull request already exists for these targets [id: ${9000 + exists.number}, issue_id: ${7000 + exists.number}, head_repo_id: 42, base_repo_id: 42, head_branch: ${head}, base_branch: ${base}]`,
          );
        const pr = addPull(owner, repo, { head, base, title, poster: login });
        pr.body = typeof body.body === 'string' ? body.body : '';
        later(() => deliver('pull_request', 'pull_request', pullPayload(pr, 'opened', login)));
        return send(201, pullJson(pr));
      }

      if (!knownRepos.has(repoKey(owner, repo))) return error(404, NOT_FOUND);
      const pr = pulls.get(pullKey(owner, repo, Number(index)));
      if (!pr) return error(404, NOT_FOUND);

      if (kind === 'issues') {
        if (sub !== 'comments') return error(404, NOT_FOUND);
        if (method === 'GET')
          return send(
            200,
            pr.comments.map((c) => commentJson(pr, c)),
          );
        if (method !== 'POST') return error(405, 'Method Not Allowed');
        if (typeof body.body !== 'string' || !body.body.trim()) return error(422, '[Body]: Required');
        return send(201, commentJson(pr, addComment(pr, login, body.body)));
      }

      if (sub === undefined) {
        if (method === 'GET') return send(200, pullJson(pr));
        if (method !== 'PATCH') return error(405, 'Method Not Allowed');
        if (body.state !== undefined && body.state !== 'open' && body.state !== 'closed')
          return error(422, '[State]: In');
        if (body.state === 'closed' && pr.state === 'open') {
          if (pr.merged) return error(409, 'cannot change state of this pull request, it was already merged');
          pr.state = 'closed';
          later(() => deliver('pull_request', 'pull_request', pullPayload(pr, 'closed', login)));
        }
        if (typeof body.title === 'string') pr.title = body.title;
        return send(201, pullJson(pr));
      }

      if (sub === 'reviews') {
        if (method === 'GET')
          return send(
            200,
            pr.reviews.map((r) => reviewJson(pr, r)),
          );
        if (method !== 'POST') return error(405, 'Method Not Allowed');
        const event = body.event ?? 'PENDING';
        if (event !== 'APPROVED' && event !== 'REQUEST_CHANGES' && event !== 'COMMENT' && event !== 'PENDING')
          return error(422, `unknown review event: ${String(event)}`);
        const text = typeof body.body === 'string' ? body.body : '';
        if ((event === 'REQUEST_CHANGES' || event === 'COMMENT') && !text.trim())
          return error(422, `review event ${event} requires a body`);
        if (pr.state === 'closed') return error(422, 'cannot review a closed pull request');
        if (pr.poster === login && event !== 'COMMENT' && event !== 'PENDING')
          return error(
            422,
            event === 'APPROVED'
              ? 'approve your own pull is not allowed'
              : 'reject your own pull is not allowed',
          );
        return send(200, reviewJson(pr, addReview(pr, login, event, text)));
      }

      if (sub === 'merge') {
        if (method === 'GET') return pr.merged ? send(204) : error(404, NOT_FOUND);
        if (method !== 'POST') return error(405, 'Method Not Allowed');
        const style = body.Do;
        if (
          typeof style !== 'string' ||
          !['merge', 'rebase', 'rebase-merge', 'squash', 'fast-forward-only', 'manually-merged'].includes(
            style,
          )
        )
          return error(422, '[Do]: Required');
        if (pr.merged) return error(405, 'PR already merged');
        if (pr.state === 'closed') return error(405, 'PR is closed');
        if (!pr.mergeable) return error(405, 'Please try again later');
        if (pr.conflict) return error(409, 'merge failed because of conflict');
        pr.merged = true;
        pr.state = 'closed';
        pr.merge_style = style;
        pr.merged_at = new Date().toISOString();
        pr.merge_commit_sha = createHmac('sha1', 'merge')
          .update(`${owner}/${repo}#${pr.number}`)
          .digest('hex');
        later(() => deliver('pull_request', 'pull_request', pullPayload(pr, 'closed', login)));
        return send(200);
      }

      if (sub === 'requested_reviewers') {
        if (method !== 'POST' && method !== 'DELETE') return error(405, 'Method Not Allowed');
        const names = body.reviewers;
        if (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))
          return error(422, '[Reviewers]: must be a list of user names');
        for (const name of names as string[]) {
          if (opts.users && !opts.users.includes(name))
            return error(404, `user does not exist [uid: 0, name: ${name}]`);
          if (name === pr.poster)
            return error(422, `reviewer is the poster of this pull request [name: ${name}]`);
        }
        if (method === 'DELETE') {
          pr.requested_reviewers = pr.requested_reviewers.filter((n) => !(names as string[]).includes(n));
          return send(204);
        }
        const added: StubReview[] = [];
        for (const name of names as string[]) {
          if (!pr.requested_reviewers.includes(name)) pr.requested_reviewers.push(name);
          added.push({
            id: nextId++,
            user: name,
            state: 'PENDING',
            body: '',
            submitted_at: new Date().toISOString(),
          });
        }
        return send(
          201,
          added.map((r) => ({ ...reviewJson(pr, r), state: 'REQUEST_REVIEW' })),
        );
      }
      return error(404, NOT_FOUND);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function settled() {
    while (pending.size) await Promise.all([...pending]);
  }

  const mustPull = (owner: string, repo: string, number: number) => {
    const pr = pulls.get(pullKey(owner, repo, number));
    if (!pr) throw new Error(`the stub has no PR ${owner}/${repo}#${number}`);
    return pr;
  };

  return {
    url,
    token,
    login,
    calls,
    deliveries,
    addPull,
    pull: (owner, repo, number) => pulls.get(pullKey(owner, repo, number)),
    fail: (failure) => {
      failures.push({ times: 1, ...failure });
    },
    async review(owner, repo, number, review) {
      const made = addReview(mustPull(owner, repo, number), review.login, review.event, review.body);
      await settled();
      return made;
    },
    async comment(owner, repo, number, comment) {
      const made = addComment(mustPull(owner, repo, number), comment.login, comment.body);
      await settled();
      return made;
    },
    deliver,
    setWebhook(url, secret) {
      opts.webhookUrl = url;
      if (secret !== undefined) opts.webhookSecret = secret;
    },
    settled,
    async close() {
      for (const res of hanging) res.destroy();
      await settled();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
