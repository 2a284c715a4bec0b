import { desc, eq, sql } from 'drizzle-orm';
import { type ActivityRow, type BugRow, type ProjectRow, repairReports } from '../../schema';
import type { Config } from '../lib/config';
import type { Db } from '../lib/db';
import { AppError, notFound } from '../lib/errors';
import { type ApiActivity, type NewActivity, recordActivity, toApiActivity } from './activity';
import { getBugRow, toApiBug } from './bugs';
import { type GiteaClient, type GiteaRepo, giteaClient, giteaConfigured, giteaRepoOf } from './gitea';
import { getProjectRow } from './projects';
import {
  evaluateAutoApproval,
  type MergeStyle,
  type ReviewSettings,
  reviewSettingsOf,
} from './review-policy';

/**
 * The review cockpit: a person approves, merges, asks for changes or closes a bug's pull
 * request from Log Center, and Log Center does it on Gitea. The bug's status is not changed
 * here: Gitea's webhook moves it (merged → MERGED, closed → FAILED, changes requested →
 * FIXING), so a PR acted on in Gitea itself and one acted on here end the same way.
 *
 * Gitea is called first and the activity rows are written only once it agreed: a refusal
 * answers Gitea's reason and leaves nothing behind.
 */

export const REVIEW_ACTIONS = ['approve', 'approve_and_merge', 'request_changes', 'close'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

export interface ReviewInput {
  action: ReviewAction;
  note?: string | null;
  merge_style?: MergeStyle;
}

export interface ReviewOutcome {
  message: string;
  bug: ReturnType<typeof toApiBug>;
  activity: ApiActivity[];
}

interface ReviewTarget {
  bug: BugRow & { prNumber: number };
  project: ProjectRow | undefined;
  repo: GiteaRepo;
  settings: ReviewSettings;
}

/** The bug, its PR and its repository, or the reason a review action cannot apply to it. */
async function reviewTarget(db: Db, id: number): Promise<ReviewTarget> {
  const bug = await getBugRow(db, id);
  if (!bug) throw notFound('Bug');
  if (bug.status !== 'PENDING_REVIEW') {
    throw new AppError(
      'conflict',
      `Bug ${id} is ${bug.status}; review actions apply to a bug in PENDING_REVIEW`,
      { status: bug.status },
    );
  }
  if (bug.prNumber == null) {
    throw new AppError('conflict', `Bug ${id} has no pull request to review`);
  }
  const project = await getProjectRow(db, bug.projectId);
  const repo = giteaRepoOf(project?.repoUrl);
  if (!repo) {
    throw new AppError(
      'conflict',
      `Project ${bug.projectId} has no repo_url naming a Gitea owner/repo; set it on the project first`,
    );
  }
  return {
    bug: bug as BugRow & { prNumber: number },
    project,
    repo,
    settings: reviewSettingsOf(project?.reviewSettings),
  };
}

const noteOf = (note: string | null | undefined) => (note?.trim() ? note : null);

/** One review action on one bug. Throws `gitea_failed` (nothing stored) when Gitea refuses. */
export async function reviewBug(
  db: Db,
  gitea: GiteaClient,
  id: number,
  input: ReviewInput,
): Promise<ReviewOutcome> {
  const { bug, repo, settings } = await reviewTarget(db, id);
  const pr = bug.prNumber;
  const note = noteOf(input.note);
  const base = { bugId: bug.id, actor: 'person', body: note };
  const rows: NewActivity[] = [];
  let message: string;
  switch (input.action) {
    case 'approve': {
      const review = await gitea.review(repo, pr, 'APPROVED', note ?? '');
      rows.push({ ...base, kind: 'review_approved', data: { pr_number: pr, review_id: review.id } });
      message = `Approved PR #${pr} on Gitea`;
      break;
    }
    case 'approve_and_merge': {
      const style = input.merge_style ?? settings.merge_style;
      const review = await gitea.review(repo, pr, 'APPROVED', note ?? '');
      await gitea.merge(repo, pr, style).catch((error: unknown) => {
        // The approval stands on Gitea (its webhook reports it); the merge did not happen.
        if (error instanceof AppError) error.extra.approved = true;
        throw error;
      });
      rows.push(
        { ...base, kind: 'review_approved', data: { pr_number: pr, review_id: review.id } },
        { ...base, body: null, kind: 'merge_requested', data: { pr_number: pr, merge_style: style } },
      );
      message = `Approved and merged PR #${pr} on Gitea (${style}); the bug becomes MERGED when Gitea's webhook arrives`;
      break;
    }
    case 'request_changes': {
      if (!note) {
        throw new AppError('validation_failed', 'Asking for changes needs a note saying what to change', {
          details: [{ path: 'note', message: 'required for request_changes' }],
        });
      }
      const review = await gitea.review(repo, pr, 'REQUEST_CHANGES', note);
      rows.push({ ...base, kind: 'review_changes_requested', data: { pr_number: pr, review_id: review.id } });
      message = `Asked for changes on PR #${pr}; the bug goes back to FIXING when Gitea's webhook arrives`;
      break;
    }
    case 'close': {
      // The note goes first, so the PR is never closed without the reason its reader expects.
      const comment = note ? await gitea.comment(repo, pr, note) : null;
      await gitea.close(repo, pr);
      rows.push({
        ...base,
        kind: 'pr_closed',
        data: { pr_number: pr, ...(comment?.id != null && { comment_id: comment.id }) },
      });
      message = `Closed PR #${pr} on Gitea; the bug becomes FAILED when Gitea's webhook arrives`;
      break;
    }
  }
  const activity = await recordActivity(db, rows);
  return { message, bug: toApiBug(bug), activity };
}

export type BatchResult =
  | { id: number; ok: true; bug: ReturnType<typeof toApiBug>; message: string }
  | { id: number; ok: false; error: { code: string; message: string } };

/** The same action on several bugs, one after the other; one refusal does not stop the rest. */
export async function reviewBugs(
  db: Db,
  gitea: GiteaClient,
  ids: number[],
  input: ReviewInput,
): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for (const id of ids) {
    try {
      const outcome = await reviewBug(db, gitea, id, input);
      results.push({ id, ok: true, bug: outcome.bug, message: outcome.message });
    } catch (error) {
      if (error instanceof AppError) {
        results.push({ id, ok: false, error: { code: error.code, message: error.message } });
        continue;
      }
      console.error(
        JSON.stringify({ level: 'error', msg: 'batch review failed', bug_id: id, error: String(error) }),
      );
      results.push({ id, ok: false, error: { code: 'internal_error', message: 'Internal server error' } });
    }
  }
  return results;
}

export interface AfterReviewOptions {
  /** Stands in for the global fetch (tests). */
  fetch?: typeof fetch;
}

/**
 * Runs after the answer to the change that put a bug in PENDING_REVIEW (or gave a bug in
 * PENDING_REVIEW a new PR): asks the project's reviewers on Gitea, then applies the
 * auto-approval policy. It never fails the request that caused it; what happened is recorded
 * as activity.
 */
export async function afterPendingReview(
  db: Db,
  config: Config,
  bugId: number,
  options: AfterReviewOptions & { autoApprove?: boolean } = {},
): Promise<ApiActivity[]> {
  const bug = await getBugRow(db, bugId);
  if (bug?.status !== 'PENDING_REVIEW' || bug.prNumber == null) return [];
  const project = await getProjectRow(db, bug.projectId);
  const settings = reviewSettingsOf(project?.reviewSettings);
  const wantsReviewers = settings.reviewers.length > 0;
  const wantsAuto = settings.auto_approve.enabled && options.autoApprove !== false;
  if (!wantsReviewers && !wantsAuto) return [];
  const repo = giteaRepoOf(project?.repoUrl);
  const written: ApiActivity[] = [];
  if (!giteaConfigured(config) || !repo) {
    // Reviewers are a courtesy; an enabled policy that cannot act says why.
    if (wantsAuto) {
      written.push(
        ...(await recordActivity(db, [
          {
            bugId,
            kind: 'auto_approval_skipped',
            actor: 'policy',
            body: !repo
              ? `the project's repo_url names no Gitea owner/repo`
              : 'Gitea is not configured on the server (GITEA_URL, GITEA_TOKEN)',
            data: { pr_number: bug.prNumber },
          },
        ])),
      );
    }
    return written;
  }
  const gitea = giteaClient(config, { fetch: options.fetch });
  const target = { bug: bug as BugRow & { prNumber: number }, project, repo, settings };
  if (wantsReviewers) written.push(...(await requestReviewers(db, gitea, target)));
  if (wantsAuto) written.push(...(await autoApprove(db, gitea, target)));
  return written;
}

/**
 * Asks the project's reviewers once per PR: a PR that already has a `reviewers_requested` row
 * is not asked again (a follow-up puts the bug back in review on the same PR). A failed request
 * is recorded and does not count, so the next entry into review tries again. The row is written
 * only when Gitea has answered, with a conditional insert, so two changes arriving together
 * record one request (Gitea takes a repeated request of the same names as a no-op).
 */
async function requestReviewers(db: Db, gitea: GiteaClient, target: ReviewTarget): Promise<ApiActivity[]> {
  const { bug, repo, settings } = target;
  const already = sql`EXISTS (SELECT 1 FROM bug_activity WHERE bug_id = ${bug.id}
    AND kind = 'reviewers_requested' AND json_extract(data, '$.pr_number') = ${bug.prNumber})`;
  const [{ asked } = { asked: 0 }] = await db.all<{ asked: number }>(sql`SELECT ${already} AS asked`);
  if (asked) return [];
  const data = { pr_number: bug.prNumber, reviewers: settings.reviewers };
  try {
    await gitea.requestReviewers(repo, bug.prNumber, settings.reviewers);
  } catch (error) {
    return recordActivity(db, [
      { bugId: bug.id, kind: 'reviewers_request_failed', actor: 'system', body: reasonOf(error), data },
    ]);
  }
  const rows = await db.all<ActivityRow & { data: string }>(sql`
    INSERT INTO bug_activity (bug_id, kind, actor, body, data, at)
    SELECT ${bug.id}, 'reviewers_requested', 'system', NULL, ${JSON.stringify(data)}, ${new Date().toISOString()}
    WHERE NOT ${already}
    RETURNING id, bug_id AS bugId, kind, actor, body, data, at`);
  return rows.map((row) => toApiActivity({ ...row, data: JSON.parse(row.data) }));
}

/** The policy on the latest repair report; an approval (and merge) on Gitea when it allows one. */
async function autoApprove(db: Db, gitea: GiteaClient, target: ReviewTarget): Promise<ApiActivity[]> {
  const { bug, repo, settings } = target;
  const pr = bug.prNumber;
  const [report] = await db
    .select()
    .from(repairReports)
    .where(eq(repairReports.bugId, bug.id))
    .orderBy(desc(repairReports.id))
    .limit(1);
  const decision = evaluateAutoApproval(
    settings.auto_approve,
    report && { test_passed: report.testPassed, modified_files: report.modifiedFiles, diff: report.diff },
  );
  const base = { bugId: bug.id, actor: 'policy' };
  const measured = {
    pr_number: pr,
    ...(decision.changed_lines !== undefined && { changed_lines: decision.changed_lines }),
    ...(decision.files && { files: decision.files }),
  };
  if (!decision.approve) {
    return recordActivity(db, [
      { ...base, kind: 'auto_approval_skipped', body: decision.reason, data: measured },
    ]);
  }
  try {
    await gitea.review(repo, pr, 'APPROVED', `Approved automatically by Log Center: ${decision.rule}.`);
  } catch (error) {
    return recordActivity(db, [
      {
        ...base,
        kind: 'auto_approval_skipped',
        body: `the policy allowed it (${decision.rule}), but ${reasonOf(error)}`,
        data: { ...measured, rule: decision.rule },
      },
    ]);
  }
  const rows: NewActivity[] = [
    { ...base, kind: 'auto_approved', body: decision.rule, data: { ...measured, rule: decision.rule } },
  ];
  if (settings.auto_approve.merge) {
    try {
      await gitea.merge(repo, pr, settings.merge_style);
      rows.push({
        ...base,
        kind: 'merge_requested',
        data: { pr_number: pr, merge_style: settings.merge_style },
      });
    } catch (error) {
      rows.push({
        ...base,
        kind: 'auto_approval_skipped',
        body: `approved, but the merge waits for a person: ${reasonOf(error)}`,
        data: { pr_number: pr, merge_style: settings.merge_style },
      });
    }
  }
  return recordActivity(db, rows);
}

const reasonOf = (error: unknown) => (error instanceof AppError ? error.message : String(error));
