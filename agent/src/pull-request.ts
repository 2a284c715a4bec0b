import { z } from 'zod';
import type { AgentConfig } from './config';
import type { Bug } from './log-center';

export interface RepoCoordinates {
  /** null for a path on disk. */
  host: string | null;
  owner: string;
  repo: string;
}

/**
 * Owner and repository from the forms a `repo_url` takes: `https://host[/prefix]/owner/repo(.git)`,
 * `ssh://git@host:2222/owner/repo.git`, `git@host:owner/repo.git`, or a path on disk. Owner and repo are
 * the last two segments, which also holds for Gitea served under a sub-path.
 */
export function parseRepoUrl(repoUrl: string): RepoCoordinates | null {
  const trimmed = repoUrl.trim();
  let host: string | null = null;
  let path: string;
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/.exec(trimmed);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      return null;
    }
    host = url.protocol === 'file:' ? null : url.host;
    path = decodeURIComponent(url.pathname);
  } else if (scp && !trimmed.startsWith('/') && !trimmed.startsWith('.')) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    path = trimmed;
  }
  const segments = path
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  const repo = segments.at(-1);
  const owner = segments.at(-2);
  if (!owner || !repo) return null;
  return { host, owner, repo };
}

export interface PullRequestTarget {
  provider: 'gitea' | 'github';
  /** The API root: `https://gitea.example/api/v1` or `https://api.github.com`. */
  apiUrl: string;
  owner: string;
  repo: string;
  token: string;
}

export class PullRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PullRequestError';
  }
}

/** Where the pull request for a project goes; throws PullRequestError when that cannot be known. */
export function pullRequestTarget(
  repoUrl: string | null | undefined,
  config: Pick<AgentConfig, 'prProvider' | 'giteaUrl' | 'giteaToken' | 'githubApiUrl' | 'githubToken'>,
): PullRequestTarget {
  if (!repoUrl) throw new PullRequestError('the project has no repo_url to open a pull request against');
  const coordinates = parseRepoUrl(repoUrl);
  if (!coordinates) throw new PullRequestError(`cannot read owner and repository from repo_url ${repoUrl}`);
  const { host, owner, repo } = coordinates;
  const provider =
    config.prProvider !== 'auto' ? config.prProvider : host === 'github.com' ? 'github' : 'gitea';

  if (provider === 'github') {
    if (!config.githubToken) throw new PullRequestError('GITHUB_TOKEN is not set');
    return { provider, apiUrl: config.githubApiUrl, owner, repo, token: config.githubToken };
  }
  // Without GITEA_URL, the Gitea that serves the repository over HTTP(S) is the one to ask.
  const base = config.giteaUrl ?? httpOrigin(repoUrl);
  if (!base) throw new PullRequestError('GITEA_URL is not set and repo_url is not an http(s) URL');
  if (!config.giteaToken) throw new PullRequestError('GITEA_TOKEN is not set');
  return { provider, apiUrl: `${base}/api/v1`, owner, repo, token: config.giteaToken };
}

function httpOrigin(url: string): string | null {
  try {
    const parsed = new URL(url);
    return /^https?:$/.test(parsed.protocol) ? parsed.origin : null;
  } catch {
    return null;
  }
}

export interface PullRequestRequest {
  title: string;
  /** The branch with the fix. */
  head: string;
  /** The branch it asks to be merged into. */
  base: string;
  body: string;
}

export interface OpenedPullRequest {
  number: number;
  url: string;
}

// Gitea's `PullRequest` (modules/structs/pull.go) and GitHub's answer share these fields.
const PullRequestAnswer = z.looseObject({ number: z.number().int().positive(), html_url: z.string() });

/**
 * Opens a pull request: Gitea's `POST /repos/{owner}/{repo}/pulls` (`CreatePullRequestOption`:
 * title, head, base, body) with `Authorization: token …`, or GitHub's endpoint of the same shape.
 * Nothing is merged here or anywhere else in the agent.
 */
export async function openPullRequest(
  target: PullRequestTarget,
  request: PullRequestRequest,
  fetchImpl: typeof fetch = fetch,
): Promise<OpenedPullRequest> {
  const url = `${target.apiUrl}/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}/pulls`;
  const headers: Record<string, string> =
    target.provider === 'gitea'
      ? { Authorization: `token ${target.token}`, Accept: 'application/json' }
      : {
          Authorization: `Bearer ${target.token}`,
          Accept: 'application/vnd.github+json',
          'X-GitHub-Api-Version': '2022-11-28',
        };
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new PullRequestError(`${target.provider} unreachable at ${url}: ${(error as Error).message}`);
  }
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) {
    const message = messageOf(text);
    throw new PullRequestError(
      `${target.provider} refused the pull request (${res.status}${message ? `: ${message}` : ''})`,
      res.status,
    );
  }
  const parsed = PullRequestAnswer.safeParse(safeJson(text));
  if (!parsed.success) {
    throw new PullRequestError(`${target.provider} answered ${res.status} without a pull request number`);
  }
  return { number: parsed.data.number, url: parsed.data.html_url };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function messageOf(text: string): string {
  const json = safeJson(text) as { message?: unknown } | undefined;
  if (json && typeof json.message === 'string') return json.message;
  return text.trim().slice(0, 200);
}

export interface PullRequestStory {
  bugs: readonly Bug[];
  analysis: string;
  modifiedFiles: readonly string[];
  test: { command: string; passed: boolean; summary: string };
}

const MAX_FILES_LISTED = 30;
const MAX_ANALYSIS_CHARS = 4_000;

/** The PR description: the bugs, the analysis, the files, the test result, and a warning to review it. */
export function describePullRequest(story: PullRequestStory): string {
  const lines = [
    '## Automated repair',
    '',
    `Opened by the Log Center repair agent for ${story.bugs.length === 1 ? 'this bug' : `${story.bugs.length} bugs`}:`,
    '',
  ];
  for (const bug of story.bugs) {
    const where = bug.error.file_path
      ? ` at \`${bug.error.file_path}${bug.error.line_number ? `:${bug.error.line_number}` : ''}\``
      : '';
    const seen = bug.occurrence_count ? `, seen ${bug.occurrence_count}×` : '';
    lines.push(
      `- Bug #${bug.id} (${bug.project_id}, ${bug.environment}${seen}): **${oneLine(bug.error.type, 100)}** ${oneLine(bug.error.message, 160)}${where}`,
    );
  }
  lines.push('', '## Analysis', '', clip(story.analysis.trim() || '(the fixer gave no explanation)'), '');
  lines.push('## Modified files', '');
  for (const file of story.modifiedFiles.slice(0, MAX_FILES_LISTED)) lines.push(`- \`${file}\``);
  if (story.modifiedFiles.length > MAX_FILES_LISTED) {
    lines.push(`- … and ${story.modifiedFiles.length - MAX_FILES_LISTED} more`);
  }
  lines.push(
    '',
    '## Tests',
    '',
    `${story.test.passed ? '✅ Passed' : '❌ Failed'}: \`${story.test.command}\``,
    '',
    '<details><summary>Test output (end)</summary>',
    '',
    '```',
    story.test.summary.replaceAll('```', "'''"),
    '```',
    '',
    '</details>',
    '',
    '---',
    '',
    '⚠️ **Review before merging.** These changes were written by an automated fixer and only checked by the',
    "project's tests. The agent never merges; merging is a person's decision.",
  );
  return lines.join('\n');
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function clip(text: string): string {
  return text.length > MAX_ANALYSIS_CHARS ? `${text.slice(0, MAX_ANALYSIS_CHARS)}\n\n[…]` : text;
}
