import type { AgentConfig } from './config';
import { truncateMiddle } from './exec';
import { type FixerRun, type ReviewRequest, runFixer } from './fixer';
import { commitMessageWith, followUpCommitMessage, isReviewFollowUp, reviewRequest } from './follow-up';
import { GitError, gitEnv, isRejectedPush } from './git';
import type { Bug, LogCenterClient, RepairReport } from './log-center';
import {
  describePullRequest,
  openPullRequest,
  PullRequestError,
  type PullRequestTarget,
  pullRequestTarget,
} from './pull-request';
import { resolveTestCommand, runTests, type TestRun } from './verify';
import { chooseRepository, RepairFailure, Workspace } from './workspace';

export interface RepairContext {
  config: AgentConfig;
  api: LogCenterClient;
  /** One line per step, for a person watching. */
  progress: (line: string) => void;
  /** Aborting stops the fixer or the tests; the bug is then reported FAILED. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  now?: () => Date;
}

export type Stage = 'repository' | 'fixer' | 'tests' | 'publish' | 'report';

const STEP: Record<Stage, string> = {
  repository: '1/5 repository',
  fixer: '2/5 fixer',
  tests: '3/5 tests',
  publish: '4/5 publish',
  report: '5/5 report',
};

export interface BugOutcome {
  bugId: number;
  projectId: string;
  /** The step reached; for a failure, the step that failed. */
  stage: Stage;
  /** FIXING: Log Center could not be told the result; the lease returns the bug to the queue. */
  status: 'PENDING_REVIEW' | 'FAILED' | 'FIXING';
  reason?: string;
  branch?: string;
  prNumber?: number;
  prUrl?: string;
  /** A review follow-up: a commit added to the existing pull request's branch, no new pull request. */
  followUp?: boolean;
  /** The commit pushed. */
  commit?: string;
  /** The failure concerns this bug only; the project's other bugs can still be repaired. */
  onlyThisBug?: boolean;
  durationMs: number;
  /** Set when talking to Log Center failed, which is the agent's problem rather than the bug's. */
  error?: string;
}

// Bounds on what goes into a report, so one huge test log cannot make the report itself fail.
const LIMITS = { analysis: 16_000, output: 64_000, diff: 200_000, prTestSummary: 3_000 };

/** `fix/auto-YYYYMMDD-HHMM-<bug id>` (UTC), with `-2`, `-3` … when a run in the same minute took it. */
export function fixBranchName(bugId: number, at: Date, attempt = 1): string {
  const iso = at.toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  return `fix/auto-${stamp}-${bugId}${attempt > 1 ? `-${attempt}` : ''}`;
}

export function commitMessage(bug: Bug, analysis: string): string {
  const where = bug.error.file_path
    ? ` (${bug.error.file_path}${bug.error.line_number !== null ? `:${bug.error.line_number}` : ''})`
    : '';
  const summary = `${bug.error.type}: ${bug.error.message}`.replace(/\s+/g, ' ').slice(0, 200);
  return commitMessageWith([`fix: auto repair bug #${bug.id}`, '', `${summary}${where}`], bug, analysis);
}

/**
 * One claimed bug from FIXING to PENDING_REVIEW with an open pull request, or to FAILED with the
 * reason. A review follow-up (the bug came back from PENDING_REVIEW with its pull request) gets a
 * commit on the pull request's branch instead of a new branch and pull request. It never throws:
 * every way out reports to Log Center, so no bug stays FIXING while the agent runs.
 */
export async function repairBug(bug: Bug, ctx: RepairContext): Promise<BugOutcome> {
  const started = Date.now();
  const now = ctx.now ?? (() => new Date());
  const say = (step: Stage | 'claimed', message: string) =>
    ctx.progress(`bug #${bug.id} [${step === 'claimed' ? step : STEP[step]}] ${message}`);
  const env = gitEnv({ name: ctx.config.gitName, email: ctx.config.gitEmail });
  const report: RepairReport = { agent_id: ctx.config.agentId, modified_files: [] };
  let workspace: Workspace | undefined;
  let fixer: FixerRun | undefined;
  let tests: TestRun | undefined;
  let reportSent = false;
  let stage: Stage = 'repository';
  let review: ReviewRequest | undefined;

  say('claimed', `${bug.project_id}: ${bug.error.type}: ${oneLine(bug.error.message)}`);
  try {
    const project = await ctx.api.project(bug.project_id);
    if (bug.pr_number && bug.branch_name) {
      const detail = await ctx.api.bugDetail(bug.id);
      if (isReviewFollowUp(bug, detail)) {
        review = await reviewRequest(
          ctx.api,
          { ...bug, pr_number: bug.pr_number, branch_name: bug.branch_name },
          detail,
        );
        say(
          'claimed',
          `review follow-up of PR #${review.prNumber} on ${review.branch}: ${review.feedback.length} piece(s) of feedback`,
        );
        if (review.feedback.length === 0) {
          throw new RepairFailure(
            `changes were requested on PR #${review.prNumber}, but Log Center holds no review text or comment since the last repair report; nothing to act on`,
            undefined,
            true,
          );
        }
      }
    }
    // Before any work: a project whose pull request cannot be opened is not worth a fixer run. A
    // follow-up opens none: its pull request exists.
    const target: PullRequestTarget | undefined = review
      ? undefined
      : pullRequestTarget(project.repo_url, ctx.config);

    // 1. Repository and branch
    const choice = await chooseRepository(project, ctx.config.workdir, env, (m) => say('repository', m));
    workspace = review
      ? await Workspace.openExisting({
          choice,
          env,
          branch: review.branch,
          note: (m) => say('repository', m),
        })
      : await Workspace.open({
          choice,
          env,
          branchName: (attempt) => fixBranchName(bug.id, now(), attempt),
          note: (m) => say('repository', m),
        });
    say(
      'repository',
      review
        ? `${choice.dir} (${choice.kind}): ${workspace.branch} from origin @ ${workspace.baseCommit.slice(0, 10)}`
        : `${choice.dir} (${choice.kind}): ${workspace.branch} from origin/${workspace.defaultBranch} @ ${workspace.baseCommit.slice(0, 10)}`,
    );

    // 2. Fixer
    stage = 'fixer';
    say('fixer', `running ${ctx.config.fixerCommand}`);
    fixer = await runFixer({
      command: ctx.config.fixerCommand,
      cwd: choice.workDir,
      bug,
      project,
      timeoutMs: ctx.config.fixerTimeoutSeconds * 1000,
      signal: ctx.signal,
      review,
    });
    report.analysis = fixer.analysis;
    report.tokens_in = fixer.tokensIn;
    report.tokens_out = fixer.tokensOut;
    report.model = fixer.model;
    if (fixer.failure) throw new RepairFailure(fixer.failure, fixer.run.output);
    const current = await workspace.repo.currentCheckout();
    if (!('branch' in current) || current.branch !== workspace.branch) {
      throw new RepairFailure(
        `the fixer left ${workspace.branch}; changes outside the fix branch are not used`,
      );
    }
    await workspace.repo.stageAll();
    const changed = await workspace.repo.stagedFiles(workspace.baseCommit);
    if (changed.length === 0) {
      throw new RepairFailure(
        review ? 'the fixer made no changes in answer to the review' : 'the fixer made no changes',
        fixer.run.output,
      );
    }
    // The report shows the whole pull request, not only the follow-up: it is what a reviewer (and
    // the auto-approval policy) judges.
    const prBase = review
      ? await workspace.repo.mergeBase(`refs/remotes/origin/${workspace.defaultBranch}`, workspace.baseCommit)
      : workspace.baseCommit;
    report.modified_files = review ? await workspace.repo.stagedFiles(prBase) : changed;
    report.diff = truncateMiddle(await workspace.repo.stagedDiff(prBase), LIMITS.diff);
    say(
      'fixer',
      `done in ${seconds(fixer.run.durationMs)}: ${changed.length} file(s) changed (${changed.slice(0, 5).join(', ')})${fixer.model ? `, ${fixer.model}` : ''}${fixer.tokensIn !== undefined ? `, ${fixer.tokensIn} in / ${fixer.tokensOut ?? 0} out tokens` : ''}`,
    );

    // 3. Verify
    stage = 'tests';
    const testCommand = await resolveTestCommand(
      choice.workDir,
      ctx.config.testCommand,
      project.test_command,
    );
    if (!testCommand) {
      throw new RepairFailure(
        "no test command: set AGENT_TEST_CMD or the project's test command (no package.json test script, pytest or go.mod found)",
      );
    }
    say('tests', `running ${testCommand.command} (${testCommand.from})`);
    tests = await runTests({
      command: testCommand.command,
      cwd: choice.workDir,
      timeoutMs: ctx.config.testTimeoutSeconds * 1000,
      signal: ctx.signal,
    });
    report.test_passed = tests.passed;
    report.test_output = truncateMiddle(tests.output, LIMITS.output);
    if (!tests.passed) throw new RepairFailure(`tests failed: ${tests.command} ${tests.verdict}`);
    say('tests', `passed in ${seconds(tests.run.durationMs)}`);

    // 4. Publish
    stage = 'publish';
    if (review) {
      const outcome = await publishFollowUp(bug, ctx, {
        workspace,
        review,
        report,
        analysis: fixer.analysis,
        started,
        say,
      });
      stage = 'report';
      reportSent = true;
      return outcome;
    }
    if (!target) throw new Error('no pull request target');
    await workspace.repo.commit(commitMessage(bug, fixer.analysis));
    say('publish', `pushing ${workspace.branch} to origin`);
    await workspace.repo.pushFixBranch(workspace.branch, workspace.defaultBranch);
    report.branch_name = workspace.branch;
    const branch = workspace.branch;
    const base = workspace.defaultBranch;
    await workspace.restore();
    say('publish', `opening a pull request on ${target.provider} (${target.owner}/${target.repo})`);
    const pr = await openPullRequest(
      target,
      {
        title: `fix: auto repair bug #${bug.id}`,
        head: branch,
        base,
        body: describePullRequest({
          bugs: [bug],
          analysis: fixer.analysis,
          modifiedFiles: report.modified_files,
          test: {
            command: tests.command,
            passed: tests.passed,
            summary: lastChars(tests.output.trim(), LIMITS.prTestSummary),
          },
        }),
      },
      ctx.fetch,
    ).catch((error: Error) => {
      throw new RepairFailure(
        `could not open the pull request: ${error.message}. ${branch} is pushed to origin; open it by hand`,
      );
    });
    report.pr_number = pr.number;
    report.pr_url = pr.url;
    say('publish', `PR #${pr.number} ${pr.url}`);

    // 5. Report
    stage = 'report';
    report.duration_ms = Date.now() - started;
    await ctx.api.addRepairReport(bug.id, report);
    reportSent = true;
    await ctx.api.setPrInfo(bug.id, { pr_number: pr.number, pr_url: pr.url, branch_name: branch });
    await ctx.api.setStatus(bug.id, {
      status: 'PENDING_REVIEW',
      note: `PR #${pr.number} opened for review: ${pr.url}`,
      actor: ctx.config.agentId,
    });
    say('report', `PENDING_REVIEW, repair report sent (${seconds(report.duration_ms)})`);
    return {
      bugId: bug.id,
      projectId: bug.project_id,
      stage,
      status: 'PENDING_REVIEW',
      branch,
      prNumber: pr.number,
      prUrl: pr.url,
      durationMs: report.duration_ms,
    };
  } catch (error) {
    if (error instanceof ReportFailure) {
      stage = 'report';
      reportSent = error.reportSent;
    }
    const cause = error instanceof ReportFailure ? error.cause : error;
    const reason = reasonOf(cause);
    say(stage, `failed: ${reason}`);
    if (workspace) {
      await workspace.restore().catch((restoreError: unknown) => {
        say(stage, `could not restore ${workspace?.choice.dir}: ${reasonOf(restoreError)}`);
      });
    }
    const output =
      cause instanceof RepairFailure
        ? cause.output
        : cause instanceof GitError
          ? cause.result.output
          : undefined;
    const analysis = fixer?.analysis.trim();
    // A fixer that prints plain text has its output as its analysis already.
    const extra = output?.trim() && output.trim() !== analysis ? `Output:\n${output.trim()}` : undefined;
    report.analysis = [`Repair failed: ${reason}`, analysis, extra].filter(Boolean).join('\n\n');
    report.analysis = truncateMiddle(report.analysis, LIMITS.analysis);
    report.duration_ms = Date.now() - started;
    const outcome = await fail(bug, ctx, { report, reason, stage, reportSent, started });
    if (review) outcome.followUp = true;
    if (cause instanceof RepairFailure && cause.onlyThisBug) outcome.onlyThisBug = true;
    return outcome;
  }
}

/** Talking to Log Center failed after the work was published; the catch reports it like any failure. */
class ReportFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly reportSent: boolean,
  ) {
    super('report failed');
  }
}

/**
 * A review follow-up's steps 4 and 5: commit, push to the pull request's branch without force,
 * report with the same pull request. Never opens a pull request. When origin's branch is gone or
 * moved since the fetch, nothing is pushed and the bug fails with the reason: a person decides.
 */
async function publishFollowUp(
  bug: Bug,
  ctx: RepairContext,
  work: {
    workspace: Workspace;
    review: ReviewRequest;
    report: RepairReport;
    analysis: string;
    started: number;
    say: (step: Stage, message: string) => void;
  },
): Promise<BugOutcome> {
  const { workspace, review, report, say } = work;
  const branch = workspace.branch;
  await workspace.repo.commit(followUpCommitMessage(bug, review.prNumber, work.analysis));
  const commit = await workspace.repo.revParse('HEAD');
  const remoteNow = await workspace.repo.remoteBranchCommit(branch);
  if (remoteNow === null) {
    throw new RepairFailure(
      `the pull request branch ${branch} was deleted on origin while the fixer ran; the follow-up commit was not pushed`,
      undefined,
      true,
    );
  }
  const moved = (to: string) =>
    new RepairFailure(
      `origin's ${branch} moved from ${workspace.baseCommit.slice(0, 10)} to ${to} while the fixer ran; ` +
        'the follow-up commit was not pushed (the agent never force-pushes). Request changes again to retry on top of it',
      undefined,
      true,
    );
  if (remoteNow !== workspace.baseCommit) throw moved(remoteNow.slice(0, 10));
  say('publish', `pushing ${commit.slice(0, 10)} to ${branch} on origin (PR #${review.prNumber})`);
  try {
    await workspace.repo.pushFixBranch(branch, workspace.defaultBranch);
  } catch (error) {
    if (isRejectedPush(error)) throw moved('a commit the agent does not have');
    throw error;
  }
  await workspace.restore();

  report.branch_name = branch;
  report.pr_number = review.prNumber;
  if (review.prUrl) report.pr_url = review.prUrl;
  report.duration_ms = Date.now() - work.started;
  let reportSent = false;
  try {
    await ctx.api.addRepairReport(bug.id, report);
    reportSent = true;
    await ctx.api.setPrInfo(bug.id, {
      pr_number: review.prNumber,
      pr_url: review.prUrl,
      branch_name: branch,
    });
    await ctx.api.setStatus(bug.id, {
      status: 'PENDING_REVIEW',
      note: `follow-up commit ${commit.slice(0, 10)} pushed to ${branch} for PR #${review.prNumber}, answering the review`,
      actor: ctx.config.agentId,
    });
  } catch (error) {
    throw new ReportFailure(error, reportSent);
  }
  say('report', `PENDING_REVIEW, repair report sent (${seconds(report.duration_ms)})`);
  return {
    bugId: bug.id,
    projectId: bug.project_id,
    stage: 'report',
    status: 'PENDING_REVIEW',
    branch,
    prNumber: review.prNumber,
    prUrl: review.prUrl,
    followUp: true,
    commit,
    durationMs: report.duration_ms,
  };
}

async function fail(
  bug: Bug,
  ctx: RepairContext,
  failure: { report: RepairReport; reason: string; stage: Stage; reportSent: boolean; started: number },
): Promise<BugOutcome> {
  const { report, reason, reportSent, started } = failure;
  const outcome: BugOutcome = {
    bugId: bug.id,
    projectId: bug.project_id,
    stage: failure.stage,
    status: 'FAILED',
    reason,
    branch: report.branch_name,
    durationMs: Date.now() - started,
  };
  const problems: string[] = [];
  let sentNow = false;
  if (!reportSent) {
    await ctx.api.addRepairReport(bug.id, report).then(
      () => {
        sentNow = true;
      },
      (error: unknown) => {
        problems.push(`repair report not sent: ${reasonOf(error)}`);
      },
    );
  }
  try {
    await ctx.api.setStatus(bug.id, {
      status: 'FAILED',
      note: truncateMiddle(reason, 1_000),
      actor: ctx.config.agentId,
    });
    ctx.progress(`bug #${bug.id} [5/5 report] FAILED${sentNow ? ', repair report sent' : ''}`);
  } catch (error) {
    outcome.status = 'FIXING';
    problems.push(`status not set to FAILED (the lease will return the bug): ${reasonOf(error)}`);
  }
  if (problems.length > 0) {
    outcome.error = problems.join('; ');
    ctx.progress(`bug #${bug.id} [5/5 report] ${outcome.error}`);
  }
  return outcome;
}

function reasonOf(error: unknown): string {
  if (error instanceof RepairFailure || error instanceof GitError || error instanceof PullRequestError) {
    return error.message;
  }
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  return String(error);
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
}

function lastChars(text: string, max: number): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
