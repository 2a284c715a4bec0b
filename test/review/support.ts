import { afterAll, beforeAll, expect, vi } from 'vitest';
import { ActivitySchema, BugDetailSchema } from '../../functions/routes/schemas';
import { type GiteaStub, type GiteaStubOptions, startGiteaStub } from '../helpers/gitea-stub';
import { runtimeReport } from '../helpers/payloads';
import { bodyAs, type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';

export const WEBHOOK_SECRET = 'review-webhook-secret';

export type Activity = ReturnType<typeof ActivitySchema.parse>;

export interface ReviewSuite {
  lc: LogCenterHandle;
  gitea: GiteaStub;
}

/**
 * One Gitea stand-in (test/helpers/gitea-stub.ts: Gitea's API and its signed webhooks, since a
 * real Gitea cannot run here) and one real Log Center over a socket on a libSQL file, wired to
 * each other both ways: GITEA_URL points at the stub, the stub's webhooks at Log Center.
 */
export function useReviewSuite(
  options: { env?: Record<string, string>; stub?: GiteaStubOptions; webhooks?: boolean } = {},
): ReviewSuite {
  const suite = {} as ReviewSuite;
  beforeAll(async () => {
    suite.gitea = await startGiteaStub(options.stub);
    suite.lc = await startLogCenter({
      env: {
        GITEA_URL: suite.gitea.url,
        GITEA_TOKEN: suite.gitea.token,
        GITEA_WEBHOOK_SECRET: WEBHOOK_SECRET,
        // The stub listens on loopback, which the outbound guard refuses unless told.
        ALERT_ALLOW_PRIVATE_TARGETS: 'true',
        GITEA_TIMEOUT_SECONDS: '2',
        ...options.env,
      },
    });
    if (options.webhooks !== false)
      suite.gitea.setWebhook(`${suite.lc.url}/api/v1/webhooks/gitea`, WEBHOOK_SECRET);
  });
  afterAll(async () => {
    await suite.gitea?.close();
    await suite.lc?.stop();
  });
  return suite;
}

export const json = (body: unknown) => ({ body: JSON.stringify(body) });

export interface PendingBug {
  id: number;
  project: string;
  owner: string;
  repo: string;
  pr: number;
}

export interface PendingOptions {
  /** The repair report the agent sends (diff, files, tests). */
  report?: { diff?: string; modified_files?: string[]; test_passed?: boolean };
  /** Added to the stub's PR (mergeable, conflict); `false` opens no PR on the stub (Gitea answers 404). */
  pull?: { mergeable?: boolean; conflict?: boolean; poster?: string } | false;
  /** Project settings written before the bug reaches review (review_settings, repo_url). */
  project?: Record<string, unknown>;
  project_id?: string;
  line?: number;
}

/**
 * A bug taken to PENDING_REVIEW the way the agent does it: a report creates it, the agent
 * claims it, opens the PR (on the stub), sends its repair report and PR info, then the status.
 */
export async function pendingBug(suite: ReviewSuite, options: PendingOptions = {}): Promise<PendingBug> {
  const { lc, gitea } = suite;
  const project = options.project_id ?? uniqueProject('rv');
  const owner = 'acme';
  const repo = project;
  const put = await lc.api(`/api/v1/projects/${project}`, {
    method: 'PUT',
    ...json({ repo_url: `${gitea.url}/${owner}/${repo}.git`, ...options.project }),
  });
  expect(put.status, await put.clone().text()).toBe(200);
  const reported = await lc.report(
    runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: options.line ?? 42 } }),
  );
  const { id } = (await reported.json()) as { id: number };
  const claimed = await lc.api('/api/v1/tasks/claim', {
    method: 'POST',
    ...json({ agent_id: 'agent-1', project_id: project }),
  });
  expect(((await claimed.json()) as { items: { id: number }[] }).items.map((b) => b.id)).toEqual([id]);
  const pull =
    options.pull === false
      ? { number: 900 + Math.floor(Math.random() * 90) }
      : gitea.addPull(owner, repo, { head: `fix/auto-${id}`, ...options.pull });
  const report = await lc.api(`/api/v1/bugs/${id}/repair-reports`, {
    method: 'POST',
    ...json({
      agent_id: 'agent-1',
      analysis: 'guard against a null cart',
      modified_files: ['src/cart.js'],
      diff: smallDiff,
      test_passed: true,
      ...options.report,
      branch_name: `fix/auto-${id}`,
      pr_number: pull.number,
      pr_url: `${gitea.url}/${owner}/${repo}/pulls/${pull.number}`,
    }),
  });
  expect(report.status).toBe(201);
  const info = await lc.api(`/api/v1/bugs/${id}/pr-info`, {
    method: 'PUT',
    ...json({
      pr_number: pull.number,
      pr_url: `${gitea.url}/${owner}/${repo}/pulls/${pull.number}`,
      branch_name: `fix/auto-${id}`,
    }),
  });
  expect(info.status).toBe(200);
  const status = await lc.api(`/api/v1/bugs/${id}/status`, {
    method: 'PUT',
    ...json({ status: 'PENDING_REVIEW', note: `PR #${pull.number} opened`, actor: 'agent-1' }),
  });
  expect(status.status).toBe(200);
  return { id, project, owner, repo, pr: pull.number };
}

export const smallDiff = [
  'diff --git a/src/cart.js b/src/cart.js',
  'index 1111111..2222222 100644',
  '--- a/src/cart.js',
  '+++ b/src/cart.js',
  '@@ -1,3 +1,4 @@',
  ' function total(items) {',
  '+  if (!items) return 0;',
  '   return items.reduce((sum, item) => sum + item.price * item.quantity, 0);',
  ' }',
  '',
].join('\n');

export const bugDetail = async (lc: LogCenterHandle, id: number) =>
  bodyAs(BugDetailSchema, await lc.api(`/api/v1/bugs/${id}`));

export async function activityOf(lc: LogCenterHandle, id: number, afterId = 0): Promise<Activity[]> {
  const res = await lc.api(`/api/v1/bugs/${id}/activity?after_id=${afterId}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { items: Activity[] };
  for (const row of body.items) ActivitySchema.parse(row);
  return body.items;
}

/** Waits for work done after a response (reviewer requests, auto-approval) to show in the activity. */
export async function activityEventually(
  lc: LogCenterHandle,
  id: number,
  done: (rows: Activity[]) => boolean,
): Promise<Activity[]> {
  return vi.waitFor(
    async () => {
      const rows = await activityOf(lc, id);
      if (!done(rows)) throw new Error(`activity so far: ${JSON.stringify(rows.map((r) => r.kind))}`);
      return rows;
    },
    { timeout: 10_000, interval: 50 },
  );
}

export function review(lc: LogCenterHandle, id: number, body: Record<string, unknown>) {
  return lc.api(`/api/v1/bugs/${id}/review`, { method: 'POST', ...json(body) });
}

/** The calls the stub received for one PR, as "METHOD path-after-the-repo". */
export function callsFor(gitea: GiteaStub, bug: PendingBug): string[] {
  const prefix = `/api/v1/repos/${bug.owner}/${bug.repo}`;
  return gitea.calls
    .filter((call) => call.path.startsWith(`${prefix}/`))
    .map((call) => `${call.method} ${call.path.slice(prefix.length)}`);
}
