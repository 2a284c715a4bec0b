import type { Config } from '../lib/config';
import { AppError } from '../lib/errors';
import { checkTargetAtSend, type HostResolver } from '../lib/outbound';

/**
 * Log Center's own calls to Gitea's API (v1): reviews, merges, closing a pull request, comments
 * and reviewer requests, as the user GITEA_TOKEN belongs to. GITEA_URL is the server's own
 * setting, yet it goes through the outbound guard like every target: no redirects followed,
 * no private address unless ALERT_ALLOW_PRIVATE_TARGETS says Gitea lives there.
 *
 * A refusal becomes `gitea_failed` (502) carrying Gitea's status and its own message, trimmed;
 * the token is never part of an answer or a log line.
 */

/** What each call is, in the words of the error message ("Gitea refused the merge (405): …"). */
export type GiteaStep = 'review' | 'merge' | 'close' | 'comment' | 'reviewer request';

export interface GiteaRepo {
  owner: string;
  repo: string;
}

export interface GiteaClientOptions {
  url: string;
  token: string;
  timeoutMs: number;
  allowPrivate: boolean;
  fetch?: typeof fetch;
  resolve?: HostResolver | null;
}

export const MAX_GITEA_MESSAGE = 300;

export type MergeStyle = 'merge' | 'squash' | 'rebase';

/** `https://host/owner/repo(.git)`, `git@host:owner/repo.git`, `owner/repo` → its owner and name, case kept. */
export function giteaRepoOf(repoUrl: string | null | undefined): GiteaRepo | null {
  if (!repoUrl) return null;
  const cleaned = repoUrl
    .trim()
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '');
  const match = cleaned.match(/(?:^|[/:])([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/);
  if (!match || match[1] === '.' || match[1] === '..' || match[2] === '.' || match[2] === '..') return null;
  return { owner: match[1]!, repo: match[2]! };
}

/** The variables a review action needs that are not set, by name. */
export function missingGiteaSettings(config: Pick<Config, 'GITEA_URL' | 'GITEA_TOKEN'>): string[] {
  return (['GITEA_URL', 'GITEA_TOKEN'] as const).filter((name) => !config[name]);
}

export function giteaConfigured(config: Pick<Config, 'GITEA_URL' | 'GITEA_TOKEN'>): boolean {
  return missingGiteaSettings(config).length === 0;
}

/** The client for this server's settings; 503 `not_configured`, naming what is missing, without them. */
export function giteaClient(
  config: Pick<Config, 'GITEA_URL' | 'GITEA_TOKEN' | 'GITEA_TIMEOUT_SECONDS' | 'ALERT_ALLOW_PRIVATE_TARGETS'>,
  extra: Pick<GiteaClientOptions, 'fetch' | 'resolve'> = {},
): GiteaClient {
  const missing = missingGiteaSettings(config);
  if (missing.length) {
    throw new AppError(
      'not_configured',
      `Review actions need Gitea: set ${missing.join(' and ')} on the server (docs/configuration.md)`,
    );
  }
  return new GiteaClient({
    url: config.GITEA_URL!,
    token: config.GITEA_TOKEN!,
    timeoutMs: Math.max(1, config.GITEA_TIMEOUT_SECONDS) * 1000,
    allowPrivate: config.ALERT_ALLOW_PRIVATE_TARGETS,
    ...extra,
  });
}

export interface GiteaReview {
  id: number | null;
  state: string | null;
  html_url: string | null;
}

export interface GiteaComment {
  id: number | null;
  html_url: string | null;
}

export class GiteaClient {
  private readonly base: string;

  constructor(private readonly options: GiteaClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** `POST /repos/{owner}/{repo}/pulls/{index}/reviews` (CreatePullReviewOptions). */
  async review(
    repo: GiteaRepo,
    index: number,
    event: 'APPROVED' | 'REQUEST_CHANGES' | 'COMMENT',
    body: string,
  ): Promise<GiteaReview> {
    const answer = await this.call('review', 'POST', `${pullPath(repo, index)}/reviews`, { event, body });
    return {
      id: numberOf(answer, 'id'),
      state: stringOf(answer, 'state'),
      html_url: stringOf(answer, 'html_url'),
    };
  }

  /** `POST /repos/{owner}/{repo}/pulls/{index}/merge` (MergePullRequestOption). */
  async merge(repo: GiteaRepo, index: number, style: MergeStyle): Promise<void> {
    await this.call('merge', 'POST', `${pullPath(repo, index)}/merge`, { Do: style });
  }

  /** `PATCH /repos/{owner}/{repo}/pulls/{index}` with `{state: "closed"}` (EditPullRequestOption). */
  async close(repo: GiteaRepo, index: number): Promise<void> {
    await this.call('close', 'PATCH', pullPath(repo, index), { state: 'closed' });
  }

  /** `POST /repos/{owner}/{repo}/issues/{index}/comments`: a pull request is an issue too. */
  async comment(repo: GiteaRepo, index: number, body: string): Promise<GiteaComment> {
    const answer = await this.call('comment', 'POST', `${repoPath(repo)}/issues/${index}/comments`, { body });
    return { id: numberOf(answer, 'id'), html_url: stringOf(answer, 'html_url') };
  }

  /** `POST /repos/{owner}/{repo}/pulls/{index}/requested_reviewers` (PullReviewRequestOptions). */
  async requestReviewers(repo: GiteaRepo, index: number, reviewers: string[]): Promise<void> {
    await this.call('reviewer request', 'POST', `${pullPath(repo, index)}/requested_reviewers`, {
      reviewers,
    });
  }

  private async call(step: GiteaStep, method: string, path: string, body: unknown): Promise<unknown> {
    const url = `${this.base}/api/v1${path}`;
    let checked: Awaited<ReturnType<typeof checkTargetAtSend>>;
    try {
      checked = await checkTargetAtSend(url, {
        allowPrivate: this.options.allowPrivate,
        ...(this.options.resolve !== undefined && { resolve: this.options.resolve }),
      });
    } catch (error) {
      throw this.failed(step, `Gitea could not be reached for the ${step}: ${networkReason(error)}`);
    }
    if (!checked.ok) {
      throw new AppError(
        'not_configured',
        `GITEA_URL is refused (${checked.detail}); set ALERT_ALLOW_PRIVATE_TARGETS=true if Gitea runs on the private network`,
      );
    }
    let res: Response;
    try {
      res = await (this.options.fetch ?? fetch)(url, {
        method,
        headers: {
          Authorization: `token ${this.options.token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'User-Agent': 'log-center',
        },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      if (isTimeout(error)) {
        throw this.failed(
          step,
          `Gitea did not answer the ${step} within ${Math.round(this.options.timeoutMs / 1000)} s`,
        );
      }
      throw this.failed(step, `Gitea could not be reached for the ${step}: ${networkReason(error)}`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (error) {
      throw this.failed(step, `Gitea's answer to the ${step} broke off: ${networkReason(error)}`);
    }
    if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
      throw this.failed(
        step,
        `Gitea answered the ${step} with a redirect (${res.status || 'redirect'}), which is not followed; check GITEA_URL`,
        res.status,
      );
    }
    if (!res.ok) {
      throw this.failed(
        step,
        `Gitea refused the ${step} (${res.status}): ${this.scrub(giteaMessage(text, res.statusText))}`,
        res.status,
      );
    }
    if (!text.trim()) return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return {};
    }
  }

  private failed(step: GiteaStep, message: string, status?: number) {
    return new AppError('gitea_failed', this.scrub(message), {
      step,
      ...(status !== undefined && { gitea_status: status }),
    });
  }

  /** Gitea has no reason to echo the token, but an answer is never trusted to keep it out. */
  private scrub(text: string): string {
    const { token } = this.options;
    // A token this short would be a typo, and hiding it would mangle every message.
    return token.length >= 8 ? text.split(token).join('***') : text;
  }
}

const segment = encodeURIComponent;
const repoPath = (repo: GiteaRepo) => `/repos/${segment(repo.owner)}/${segment(repo.repo)}`;
const pullPath = (repo: GiteaRepo, index: number) => `${repoPath(repo)}/pulls/${index}`;

/** Gitea's APIError is `{message, url}`; a validation error may add `errors`. Anything else: its text. */
export function giteaMessage(text: string, statusText = ''): string {
  let message = '';
  try {
    const parsed = JSON.parse(text) as { message?: unknown; errors?: unknown };
    if (parsed && typeof parsed === 'object') {
      if (typeof parsed.message === 'string') message = parsed.message;
      if (Array.isArray(parsed.errors) && parsed.errors.length) {
        const extra = parsed.errors.filter((e) => typeof e === 'string').join('; ');
        if (extra) message = message ? `${message} (${extra})` : extra;
      }
    }
  } catch {
    message = text;
  }
  // One line, no control characters (the answer ends up in a JSON message and a web page).
  const flat = message
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const said = flat || statusText || 'no message';
  return said.length > MAX_GITEA_MESSAGE ? `${said.slice(0, MAX_GITEA_MESSAGE - 1)}…` : said;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function networkReason(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

function numberOf(value: unknown, key: string): number | null {
  const v = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' ? v : null;
}

function stringOf(value: unknown, key: string): string | null {
  const v = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : null;
}
