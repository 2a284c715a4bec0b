import { expect } from 'vitest';
import { BugDetailSchema } from '../../functions/routes/schemas';
import { startLogCenterApp } from '../helpers/app';
import { giteaPullRequestPayload, signGitea } from '../helpers/gitea';
import { runtimeReport } from '../helpers/payloads';
import { type ApiBug, bodyAs, type LogCenterHandle, uniqueProject } from '../helpers/server';

export const GITEA_SECRET = 'gitea-secret-for-tests';
export const DEPLOY_SECRET = 'deploy-secret-for-tests';

/** Log Center in process with both webhook secrets set. */
export const startWithWebhooks = () =>
  startLogCenterApp({ env: { GITEA_WEBHOOK_SECRET: GITEA_SECRET, DEPLOY_WEBHOOK_SECRET: DEPLOY_SECRET } });

export const json = (body: unknown) => ({ body: JSON.stringify(body) });

/** What the agent, Gitea and the deploy pipeline do to a bug, against the suite's Log Center. */
export function lifecycleActions(current: () => LogCenterHandle) {
  const setStatus = (id: number, status: string, note?: string) =>
    current().api(`/api/v1/bugs/${id}/status`, { method: 'PUT', ...json({ status, note }) });
  const getBug = async (id: number) => bodyAs(BugDetailSchema, await current().api(`/api/v1/bugs/${id}`));

  async function newBug(project = uniqueProject(), line = 42): Promise<{ id: number; project: string }> {
    const res = await current().report(
      runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: line } }),
    );
    return { id: (await res.json()).id, project };
  }

  async function claim(agent: string, project: string, limit = 1): Promise<ApiBug[]> {
    const res = await current().api('/api/v1/tasks/claim', {
      method: 'POST',
      ...json({ agent_id: agent, project_id: project, source: 'runtime', limit }),
    });
    expect(res.status).toBe(200);
    return (await res.json()).items;
  }

  function sendGitea(payload: unknown, secret = GITEA_SECRET, path = '/api/webhooks/gitea') {
    const body = JSON.stringify(payload);
    return current().fetch(path, {
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
    current().fetch('/api/webhooks/deployment', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Secret': secret },
      body: JSON.stringify(body),
    });

  /** Takes a bug through claim, PR and merge the way the agent and Gitea do. */
  async function toMerged(owner: string, repo: string, pr: number, mergeCommit: string) {
    const project = uniqueProject();
    await current().api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      ...json({ repo_url: `https://gitea.airlabs.art/${owner}/${repo}.git` }),
    });
    const { id } = await newBug(project);
    await claim('agent-1', project);
    await current().api(`/api/v1/bugs/${id}/pr-info`, {
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

  return { setStatus, getBug, newBug, claim, sendGitea, deploy, toMerged };
}
