import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { clone, FIX_BRANCH, Repo, workTreeRoot } from './git';
import type { Project } from './log-center';

/** A reason the bug cannot be repaired, said to a person in the bug's history. */
export class RepairFailure extends Error {
  constructor(
    readonly reason: string,
    /** Output worth keeping in the repair report (fixer or git output). */
    readonly output?: string,
    /**
     * The failure concerns this bug's branch only (e.g. its pull request branch is gone), so the
     * repository is fine for the project's other bugs.
     */
    readonly onlyThisBug = false,
  ) {
    super(reason);
    this.name = 'RepairFailure';
  }
}

export interface RepositoryChoice {
  /** The top of the work tree, where git runs. */
  dir: string;
  /** Where the fixer and the tests run: `local_path` itself, which may be a package inside a monorepo. */
  workDir: string;
  /** `local_path` is someone's checkout; a clone under AGENT_WORKDIR belongs to the agent. */
  kind: 'local_path' | 'clone';
}

/** The project's `local_path` when it is a git work tree, else a clone of `repo_url` under the workdir. */
export async function chooseRepository(
  project: Project,
  workdir: string,
  env: NodeJS.ProcessEnv,
  note: (message: string) => void,
): Promise<RepositoryChoice> {
  if (project.local_path) {
    const root = await workTreeRoot(project.local_path, env);
    if (root) return { dir: root, workDir: resolve(project.local_path), kind: 'local_path' };
    note(`local_path ${project.local_path} is not a git work tree; using a clone of repo_url`);
  }
  if (!project.repo_url) {
    throw new RepairFailure(
      `project ${project.id} has no git work tree at local_path and no repo_url to clone; set one in the project settings`,
    );
  }

  const dir = join(workdir, project.id);
  const root = await workTreeRoot(dir, env);
  if (root === dir) {
    const origin = await new Repo(dir, env).remoteUrl();
    if (origin !== project.repo_url) {
      throw new RepairFailure(
        `${dir} is a clone of ${origin ?? 'nothing'}, not of ${project.repo_url}; move it away so the agent can clone again`,
      );
    }
    return { dir, workDir: dir, kind: 'clone' };
  }
  const existing = await readdir(dir).catch(() => null);
  if (existing && existing.length > 0) {
    throw new RepairFailure(`${dir} exists and is not a clone of ${project.repo_url}; move it away`);
  }
  await mkdir(workdir, { recursive: true });
  note(`cloning ${project.repo_url} into ${dir}`);
  await clone(project.repo_url, dir, env);
  return { dir, workDir: dir, kind: 'clone' };
}

type Checkout = { branch: string } | { commit: string };

/**
 * A fix branch checked out in a repository, and the way back: whatever happens, the repository ends
 * on the checkout it was found on, without the agent's leftovers.
 */
export class Workspace {
  private state: 'open' | 'closed' = 'open';

  private constructor(
    readonly repo: Repo,
    readonly choice: RepositoryChoice,
    readonly defaultBranch: string,
    /** The default branch's commit in origin, where the fix branch starts. */
    readonly baseCommit: string,
    readonly branch: string,
    private readonly original: Checkout,
  ) {}

  /**
   * Refuses a dirty `local_path` (those are someone's uncommitted changes), fetches, and creates the
   * fix branch from origin's default branch. The local default branch is never checked out or moved.
   */
  static async open(options: {
    choice: RepositoryChoice;
    env: NodeJS.ProcessEnv;
    branchName: (attempt: number) => string;
    note: (message: string) => void;
  }): Promise<Workspace> {
    const { repo, original, defaultBranch } = await prepare(options);
    const baseCommit = await repo.revParse(`refs/remotes/origin/${defaultBranch}`);

    let branch = options.branchName(1);
    for (let attempt = 2; await taken(repo, branch); attempt++) branch = options.branchName(attempt);
    await repo.createBranch(branch, baseCommit);
    return new Workspace(repo, options.choice, defaultBranch, baseCommit, branch, original);
  }

  /**
   * For a review follow-up: the pull request's branch as origin has it now, checked out as a local
   * branch tracking it; never a new branch from the default. `baseCommit` is origin's tip of that
   * branch, so the follow-up's changes are what lies on top of it.
   */
  static async openExisting(options: {
    choice: RepositoryChoice;
    env: NodeJS.ProcessEnv;
    branch: string;
    note: (message: string) => void;
  }): Promise<Workspace> {
    const { choice, branch, note } = options;
    const prepared = await prepare(options);
    const { repo, defaultBranch } = prepared;
    let { original } = prepared;
    if (branch === defaultBranch || !FIX_BRANCH.test(branch)) {
      throw new RepairFailure(
        `the pull request branch ${branch} is not one of the agent's fix/auto-* branches; the agent only pushes its own`,
        undefined,
        true,
      );
    }
    if (!(await repo.hasRef(`refs/remotes/origin/${branch}`))) {
      throw new RepairFailure(
        `the pull request branch ${branch} no longer exists on origin (deleted after the review?); nothing to add the follow-up commit to`,
        undefined,
        true,
      );
    }
    if (await repo.hasRef(`refs/heads/${branch}`)) {
      if (choice.kind === 'local_path') {
        throw new RepairFailure(
          `${choice.dir} has a local branch ${branch}; delete it (git branch -D ${branch}) so the agent can check out origin's`,
          undefined,
          true,
        );
      }
      // The clone is the agent's own: a local copy there is the leftover of a run that was killed.
      note(`deleting the leftover local branch ${branch} in the agent's clone`);
      if ('branch' in original && original.branch === branch) {
        await repo.detach();
        original = await repo.currentCheckout();
      }
      await repo.deleteBranch(branch);
    }
    const baseCommit = await repo.revParse(`refs/remotes/origin/${branch}`);
    await repo.checkoutTracking(branch);
    return new Workspace(repo, choice, defaultBranch, baseCommit, branch, original);
  }

  /**
   * Back to the checkout the repository was found on, without the agent's leftovers and without the
   * fix branch: after a push the fix lives on in origin, after a failure it is thrown away.
   */
  async restore(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    // The tree was clean when the work began, so whatever is left came from the fixer or the tests.
    await this.repo.discardChanges();
    await this.repo.checkout(this.original);
    await this.repo.deleteBranch(this.branch);
  }
}

/**
 * Refuses a dirty `local_path` (those are someone's uncommitted changes), cleans the agent's own
 * clone, notes the checkout to come back to and fetches.
 */
async function prepare(options: {
  choice: RepositoryChoice;
  env: NodeJS.ProcessEnv;
  note: (message: string) => void;
}): Promise<{ repo: Repo; original: Checkout; defaultBranch: string }> {
  const { choice, env, note } = options;
  const repo = new Repo(choice.dir, env);
  const pending = await repo.pendingChanges();
  if (pending.length > 0) {
    if (choice.kind === 'local_path') {
      throw new RepairFailure(
        `the work tree at ${choice.dir} has uncommitted changes; the agent only works on a clean tree`,
        pending.slice(0, 20).join('\n'),
      );
    }
    // The clone is the agent's own: leftovers there come from a run that was killed mid-repair.
    note(`discarding ${pending.length} leftover change(s) in the agent's clone`);
    await repo.discardChanges();
  }

  const original = await repo.currentCheckout();
  await repo.fetch();
  const defaultBranch = await repo.defaultBranch();
  return { repo, original, defaultBranch };
}

async function taken(repo: Repo, branch: string): Promise<boolean> {
  return (await repo.hasRef(`refs/heads/${branch}`)) || (await repo.hasRef(`refs/remotes/origin/${branch}`));
}
