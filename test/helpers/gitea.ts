import { createHmac } from 'node:crypto';

/**
 * A pull_request webhook body shaped like Gitea's `PullRequestPayload`
 * (modules/structs/hook.go): a merged PR arrives as action "closed" with merged: true.
 */
export function giteaPullRequestPayload(opts: {
  owner: string;
  repo: string;
  number: number;
  action: 'opened' | 'closed' | 'reopened' | 'synchronized' | 'merged';
  merged: boolean;
  mergeCommit?: string;
  mergedAt?: string;
  host?: string;
}) {
  const host = opts.host ?? 'https://gitea.airlabs.art';
  const fullName = `${opts.owner}/${opts.repo}`;
  const user = {
    id: 1,
    login: opts.owner,
    full_name: '',
    email: `${opts.owner}@noreply.gitea`,
    username: opts.owner,
  };
  const repository = {
    id: 42,
    owner: user,
    name: opts.repo,
    full_name: fullName,
    description: '',
    private: true,
    fork: false,
    html_url: `${host}/${fullName}`,
    ssh_url: `git@${new URL(host).host}:${fullName}.git`,
    clone_url: `${host}/${fullName}.git`,
    default_branch: 'main',
  };
  return {
    action: opts.action,
    number: opts.number,
    pull_request: {
      id: 9000 + opts.number,
      url: `${host}/${fullName}/pulls/${opts.number}`,
      number: opts.number,
      user,
      title: `fix: auto repair bug #${opts.number}`,
      body: 'review before merging',
      state: opts.action === 'closed' || opts.action === 'merged' ? 'closed' : 'open',
      html_url: `${host}/${fullName}/pulls/${opts.number}`,
      diff_url: `${host}/${fullName}/pulls/${opts.number}.diff`,
      mergeable: true,
      merged: opts.merged,
      merged_at: opts.merged ? (opts.mergedAt ?? new Date().toISOString()) : null,
      merge_commit_sha: opts.merged ? (opts.mergeCommit ?? 'f'.repeat(40)) : null,
      merged_by: opts.merged ? user : null,
      base: { label: 'main', ref: 'main', sha: 'a'.repeat(40), repo_id: 42, repo: repository },
      head: {
        label: 'fix/auto-20260225-1430-1',
        ref: 'fix/auto-20260225-1430-1',
        sha: 'b'.repeat(40),
        repo_id: 42,
        repo: repository,
      },
      closed_at: opts.action === 'closed' ? new Date().toISOString() : null,
    },
    repository,
    sender: user,
    commit_id: '',
    review: null,
  };
}

export const signGitea = (body: string, secret: string) =>
  createHmac('sha256', secret).update(body).digest('hex');
