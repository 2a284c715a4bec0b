import { type RunResult, run } from './exec';

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: RunResult,
  ) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    super(`git ${args[0]} failed (${result.timedOut ? 'timed out' : `exit ${result.code}`}): ${detail}`);
    this.name = 'GitError';
  }
}

export interface GitIdentity {
  name: string;
  email: string;
}

/** Network operations (fetch, clone, push) get this long; local ones finish in moments. */
const NETWORK_TIMEOUT_MS = 5 * 60_000;
const LOCAL_TIMEOUT_MS = 60_000;

/** The branch names the agent creates, and the only ones it will ever push. */
export const FIX_BRANCH = /^fix\/auto-\d{8}-\d{4}-\d+(-\d+)?$/;

/** A push the remote refused because its branch is not an ancestor of ours (it moved meanwhile). */
export function isRejectedPush(error: unknown): boolean {
  return (
    error instanceof GitError &&
    error.args[0] === 'push' &&
    /\[rejected\]|non-fast-forward|fetch first|stale info/.test(error.result.output)
  );
}

export function gitEnv(identity: GitIdentity): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // Never wait for a password prompt nobody will answer; fail and report instead.
    GIT_TERMINAL_PROMPT: '0',
    // Commits are attributed to the agent whatever the machine's git config says, so reviewers see
    // at a glance that a person did not write them.
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
    // Stable English messages for the reports.
    LC_ALL: 'C',
  };
}

async function git(
  cwd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  const result = await run('git', args, {
    cwd,
    env,
    input: options.input,
    timeoutMs: options.timeoutMs ?? LOCAL_TIMEOUT_MS,
  });
  if (result.code !== 0) throw new GitError(args, result);
  return result;
}

/** The top of the work tree containing `path`, or null when it is not inside one (or does not exist). */
export async function workTreeRoot(path: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  try {
    const result = await run('git', ['rev-parse', '--is-inside-work-tree', '--show-toplevel'], {
      cwd: path,
      env,
      timeoutMs: LOCAL_TIMEOUT_MS,
    });
    const [inside, top] = result.stdout.trim().split('\n');
    return result.code === 0 && inside === 'true' && top ? top : null;
  } catch {
    return null; // the directory does not exist
  }
}

export async function clone(url: string, dir: string, env: NodeJS.ProcessEnv) {
  await git(process.cwd(), ['clone', '--no-tags', '--', url, dir], env, { timeoutMs: NETWORK_TIMEOUT_MS });
}

/**
 * Git operations on one work tree. They take no abort signal: each is short or bounded by a time
 * limit, and the clean-up after a shutdown request must still be able to run.
 */
export class Repo {
  constructor(
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  private git(args: readonly string[], options: { timeoutMs?: number; input?: string } = {}) {
    return git(this.dir, args, this.env, options);
  }

  /** `git status --porcelain` lines: tracked changes and untracked files (ignored files do not count). */
  async pendingChanges(): Promise<string[]> {
    const { stdout } = await this.git(['status', '--porcelain', '--untracked-files=all']);
    return stdout.split('\n').filter(Boolean);
  }

  /** The checked-out branch, or the commit when HEAD is detached, so it can be restored afterwards. */
  async currentCheckout(): Promise<{ branch: string } | { commit: string }> {
    const symbolic = await run('git', ['symbolic-ref', '-q', '--short', 'HEAD'], {
      cwd: this.dir,
      env: this.env,
      timeoutMs: LOCAL_TIMEOUT_MS,
    });
    if (symbolic.code === 0) return { branch: symbolic.stdout.trim() };
    return { commit: await this.revParse('HEAD') };
  }

  async remoteUrl(remote = 'origin'): Promise<string | null> {
    const result = await run('git', ['remote', 'get-url', remote], {
      cwd: this.dir,
      env: this.env,
      timeoutMs: LOCAL_TIMEOUT_MS,
    });
    return result.code === 0 ? result.stdout.trim() : null;
  }

  async fetch(remote = 'origin') {
    await this.git(['fetch', '--prune', '--no-tags', remote], { timeoutMs: NETWORK_TIMEOUT_MS });
  }

  /**
   * The branch the remote's HEAD names (what Gitea calls the default branch). Asked of the remote
   * itself, because `refs/remotes/origin/HEAD` is only set by clone and goes stale when the default
   * changes.
   */
  async defaultBranch(remote = 'origin'): Promise<string> {
    const result = await run('git', ['ls-remote', '--symref', remote, 'HEAD'], {
      cwd: this.dir,
      env: this.env,
      timeoutMs: NETWORK_TIMEOUT_MS,
    });
    const named = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(result.stdout)?.[1];
    if (result.code === 0 && named) return named;
    for (const candidate of ['main', 'master']) {
      if (await this.hasRef(`refs/remotes/${remote}/${candidate}`)) return candidate;
    }
    throw new Error(`cannot tell the default branch of ${remote}`);
  }

  async hasRef(ref: string): Promise<boolean> {
    const result = await run('git', ['show-ref', '--verify', '--quiet', ref], {
      cwd: this.dir,
      env: this.env,
      timeoutMs: LOCAL_TIMEOUT_MS,
    });
    return result.code === 0;
  }

  async revParse(rev: string): Promise<string> {
    return (await this.git(['rev-parse', '--verify', `${rev}^{commit}`])).stdout.trim();
  }

  /** A new local branch at `startPoint`, checked out. Local branches, the default included, do not move. */
  async createBranch(name: string, startPoint: string) {
    await this.git(['checkout', '--no-track', '-b', name, startPoint]);
  }

  /**
   * A local branch tracking `origin/<name>`, checked out: the existing pull request branch a review
   * follow-up adds its commit to.
   */
  async checkoutTracking(name: string, remote = 'origin') {
    await this.git(['checkout', '--quiet', '--track', '-b', name, `refs/remotes/${remote}/${name}`]);
  }

  /** The commit `refs/heads/<branch>` has in the remote now (asked of the remote), or null when it has none. */
  async remoteBranchCommit(branch: string, remote = 'origin'): Promise<string | null> {
    const { stdout } = await this.git(['ls-remote', '--heads', remote, `refs/heads/${branch}`], {
      timeoutMs: NETWORK_TIMEOUT_MS,
    });
    const line = stdout.split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`));
    return line ? line.split('\t')[0]! : null;
  }

  async mergeBase(a: string, b: string): Promise<string> {
    return (await this.git(['merge-base', a, b])).stdout.trim();
  }

  /** Stages everything (new, changed, deleted files) so the index shows the whole fix. */
  async stageAll() {
    await this.git(['add', '--all']);
  }

  /** Files that differ between `base` and the index, including commits the fixer may have made. */
  async stagedFiles(base: string): Promise<string[]> {
    const { stdout } = await this.git(['diff', '--cached', '--name-only', '-z', base]);
    return stdout.split('\0').filter(Boolean);
  }

  async stagedDiff(base: string): Promise<string> {
    return (await this.git(['diff', '--cached', '--stat', '--patch', base])).stdout;
  }

  /** Commits the index; false when it matches HEAD already (the fixer committed its own work). */
  async commit(message: string): Promise<boolean> {
    const unchanged = await run('git', ['diff', '--cached', '--quiet'], {
      cwd: this.dir,
      env: this.env,
      timeoutMs: LOCAL_TIMEOUT_MS,
    });
    if (unchanged.code === 0) return false;
    await this.git(['commit', '--file=-'], { input: message });
    return true;
  }

  /**
   * Pushes one fix branch to a branch of the same name. Deliberately narrow: an explicit refspec, no
   * `--force`, and a name that must be one of ours, so no mistake here can rewrite or move the
   * default branch.
   */
  async pushFixBranch(branch: string, defaultBranch: string, remote = 'origin') {
    if (!FIX_BRANCH.test(branch) || branch === defaultBranch) {
      throw new Error(`refusing to push ${branch}: the agent only pushes its own fix/auto-* branches`);
    }
    await this.git(['push', '--porcelain', remote, `refs/heads/${branch}:refs/heads/${branch}`], {
      timeoutMs: NETWORK_TIMEOUT_MS,
    });
  }

  /** Leaves HEAD on its commit, detached, so the branch it was on can be deleted. */
  async detach() {
    await this.git(['checkout', '--quiet', '--detach']);
  }

  /** Throws away what the fixer and the tests left behind. Only called on a tree that was clean. */
  async discardChanges() {
    await this.git(['reset', '--hard', '--quiet']);
    // Without -x: ignored files (node_modules, virtualenvs, caches) stay.
    await this.git(['clean', '-fd', '--quiet']);
  }

  async checkout(target: { branch: string } | { commit: string }) {
    if ('branch' in target) await this.git(['checkout', '--quiet', target.branch]);
    else await this.git(['checkout', '--quiet', '--detach', target.commit]);
  }

  async deleteBranch(name: string) {
    await this.git(['branch', '-D', name]);
  }
}
