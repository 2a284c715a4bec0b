import { createHmac } from 'node:crypto';
import { and, eq, inArray, lte } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { z } from 'zod';
import { bugs } from '../../schema';
import { batch, type Db } from '../lib/db';
import { safeEqual } from '../lib/secrets';
import { canTransition } from '../lib/vocabulary';
import { activityInsert, type NewActivity } from './activity';
import { projectsForRepository } from './lifecycle';
import { moveBug, moveBugs, moveStatements } from './transitions';

/** Gitea signs the raw body: hex HMAC-SHA256 with the webhook secret (`X-Gitea-Signature`). */
export function verifyGiteaSignature(
  rawBody: string,
  signature: string | undefined,
  secret: string,
): boolean {
  if (!signature) return false;
  const given = signature
    .trim()
    .replace(/^sha256=/i, '')
    .toLowerCase();
  const expected = createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex');
  return safeEqual(given, expected);
}

const giteaRepositorySchema = z.object({
  full_name: z.string().nullish(),
  clone_url: z.string().nullish(),
  html_url: z.string().nullish(),
  ssh_url: z.string().nullish(),
});

const giteaUserSchema = z.object({ login: z.string().nullish(), username: z.string().nullish() }).nullish();

/** The fields of Gitea's `PullRequestPayload` (modules/structs/hook.go) this product reads. */
export const giteaPullRequestSchema = z.object({
  action: z.string(),
  number: z.number().int().optional(),
  pull_request: z.object({
    number: z.number().int(),
    merged: z.boolean().optional().default(false),
    merged_at: z.string().nullish(),
    merge_commit_sha: z.string().nullish(),
    html_url: z.string().nullish(),
    head: z.object({ ref: z.string().nullish() }).partial().nullish(),
  }),
  repository: giteaRepositorySchema,
});

export type GiteaPullRequest = z.infer<typeof giteaPullRequestSchema>;

export interface WebhookOutcome {
  message: string;
  updated: { id: number; status: string }[];
  skipped: { id: number; status: string; reason: string }[];
  /** Bugs the event was stored for as activity (reviews, comments). */
  recorded?: number[];
}

export async function handleGiteaPullRequest(db: Db, payload: GiteaPullRequest): Promise<WebhookOutcome> {
  const pr = payload.pull_request;
  const merged = (payload.action === 'closed' && pr.merged) || payload.action === 'merged';
  const closedUnmerged = payload.action === 'closed' && !pr.merged;
  if (!merged && !closedUnmerged)
    return { message: `Event ignored (action ${payload.action})`, updated: [], skipped: [] };

  const { repository } = payload;
  const projectIds = await projectsForRepository(db, [
    repository.full_name,
    repository.clone_url,
    repository.html_url,
    repository.ssh_url,
  ]);
  if (!projectIds.length) return { message: 'No project has this repository', updated: [], skipped: [] };
  const matches = await db
    .select({ id: bugs.id, status: bugs.status })
    .from(bugs)
    .where(and(inArray(bugs.projectId, projectIds), eq(bugs.prNumber, pr.number)));

  const to = merged ? 'MERGED' : 'FAILED';
  const outcome: WebhookOutcome = { message: '', updated: [], skipped: [] };
  for (const bug of matches) {
    if (!canTransition(bug.status, to)) {
      outcome.skipped.push({ ...bug, reason: `cannot move from ${bug.status} to ${to}` });
      continue;
    }
    const row = await moveBug(db, bug.id, to, {
      actor: 'gitea',
      note: merged ? `PR #${pr.number} merged` : `PR #${pr.number} closed without merging`,
      set: merged
        ? {
            mergeCommitSha: pr.merge_commit_sha?.toLowerCase() ?? null,
            mergedAt: pr.merged_at ? new Date(pr.merged_at).toISOString() : new Date().toISOString(),
            ...(pr.html_url && { prUrl: pr.html_url }),
          }
        : {},
    });
    outcome.updated.push({ id: row.id, status: row.status });
  }
  outcome.message = `PR #${pr.number} ${merged ? 'merged' : 'closed'}: ${outcome.updated.length} bug(s) updated`;
  return outcome;
}

/**
 * Gitea names review events in X-Gitea-Event by `HookEventType.Event()` (modules/webhook/type.go):
 * pull_request_approved, pull_request_rejected, pull_request_comment; X-Gitea-Event-Type and
 * the payload's review.type carry the longer pull_request_review_* names. Both are accepted.
 */
export const GITEA_REVIEW_EVENTS: Record<string, GiteaReviewState> = {
  pull_request_approved: 'APPROVED',
  pull_request_review_approved: 'APPROVED',
  pull_request_rejected: 'REQUEST_CHANGES',
  pull_request_review_rejected: 'REQUEST_CHANGES',
  pull_request_comment: 'COMMENT',
  pull_request_review_comment: 'COMMENT',
};

export type GiteaReviewState = 'APPROVED' | 'REQUEST_CHANGES' | 'COMMENT';

/** A review webhook: `PullRequestPayload` with `review: {type, content}` and the reviewer as `sender`. */
export const giteaReviewSchema = z.object({
  action: z.string().nullish(),
  pull_request: z.object({ number: z.number().int(), html_url: z.string().nullish() }),
  repository: giteaRepositorySchema,
  sender: giteaUserSchema,
  review: z.object({ type: z.string().nullish(), content: z.string().nullish() }).nullish(),
});

/** `IssueCommentPayload`: a comment on an issue, or on a PR's conversation when `is_pull`. */
export const giteaIssueCommentSchema = z.object({
  action: z.string(),
  issue: z.object({ number: z.number().int(), pull_request: z.unknown().nullish() }),
  comment: z.object({
    id: z.number().int().nullish(),
    body: z.string().nullish(),
    html_url: z.string().nullish(),
    user: giteaUserSchema,
    path: z.string().nullish(),
    line: z.number().int().nullish(),
  }),
  repository: giteaRepositorySchema,
  sender: giteaUserSchema,
  is_pull: z.boolean().nullish(),
});

const MAX_LOGIN = 100;
const loginOf = (...users: z.infer<typeof giteaUserSchema>[]) => {
  for (const user of users) {
    const name = user?.login || user?.username;
    if (name) return name.slice(0, MAX_LOGIN);
  }
  return 'unknown';
};

/** The bugs of the repository's projects that carry this PR number. */
async function bugsForPull(db: Db, repository: z.infer<typeof giteaRepositorySchema>, number: number) {
  const projectIds = await projectsForRepository(db, [
    repository.full_name,
    repository.clone_url,
    repository.html_url,
    repository.ssh_url,
  ]);
  if (!projectIds.length) return null;
  return db
    .select({ id: bugs.id, status: bugs.status })
    .from(bugs)
    .where(and(inArray(bugs.projectId, projectIds), eq(bugs.prNumber, number)));
}

/**
 * A review on Gitea, stored as `gitea_review` for the PR's bugs. A review asking for changes
 * also sends a bug in PENDING_REVIEW back to FIXING, unclaimed, for the agent to follow up on
 * the same branch: activity and move in one batch.
 */
export async function handleGiteaReview(
  db: Db,
  payload: z.infer<typeof giteaReviewSchema>,
  state: GiteaReviewState,
): Promise<WebhookOutcome> {
  const pr = payload.pull_request.number;
  const matches = await bugsForPull(db, payload.repository, pr);
  if (!matches) return { message: 'No project has this repository', updated: [], skipped: [], recorded: [] };
  if (!matches.length) return { message: `No bug has PR #${pr}`, updated: [], skipped: [], recorded: [] };
  const login = loginOf(payload.sender);
  const content = payload.review?.content?.trim() ? payload.review.content : null;
  const rows: NewActivity[] = matches.map((bug) => ({
    bugId: bug.id,
    kind: 'gitea_review',
    actor: `gitea:${login}`,
    body: content,
    data: {
      state,
      pr_number: pr,
      ...(payload.pull_request.html_url && { html_url: payload.pull_request.html_url }),
    },
  }));
  const statements: BatchItem<'sqlite'>[] = [activityInsert(db, rows)];
  const outcome: WebhookOutcome = {
    message: '',
    updated: [],
    skipped: [],
    recorded: matches.map((b) => b.id),
  };
  if (state === 'REQUEST_CHANGES') {
    const moving = matches.filter((bug) => bug.status === 'PENDING_REVIEW');
    for (const bug of matches) {
      if (bug.status !== 'PENDING_REVIEW')
        outcome.skipped.push({ ...bug, reason: `changes requested while ${bug.status}; status kept` });
    }
    if (moving.length) {
      statements.push(
        ...moveStatements(db, {
          from: ['PENDING_REVIEW'],
          to: 'FIXING',
          where: inArray(
            bugs.id,
            moving.map((b) => b.id),
          ),
          actor: 'gitea',
          note: `changes requested on PR #${pr} by ${login}`,
          at: new Date().toISOString(),
          // Unclaimed: the next claim hands it out as a review follow-up.
          set: { claimedBy: null, leaseExpiresAt: null },
        }),
      );
    }
  }
  const results = await batch(db, statements);
  if (statements.length > 1) {
    const moved = results[results.length - 1] as { id: number; status: string }[];
    outcome.updated = moved.map((bug) => ({ id: bug.id, status: bug.status }));
  }
  const word = { APPROVED: 'approved', REQUEST_CHANGES: 'changes requested', COMMENT: 'commented' }[state];
  outcome.message = `PR #${pr} review by ${login} (${word}): stored for ${matches.length} bug(s), ${outcome.updated.length} moved to FIXING`;
  return outcome;
}

/** A comment on a PR's conversation, stored as `gitea_comment`; comments on plain issues are not ours. */
export async function handleGiteaIssueComment(
  db: Db,
  payload: z.infer<typeof giteaIssueCommentSchema>,
): Promise<WebhookOutcome> {
  const isPull = payload.is_pull ?? payload.issue.pull_request != null;
  if (!isPull)
    return { message: 'Comment on an issue, not a pull request: ignored', updated: [], skipped: [] };
  if (payload.action !== 'created')
    return {
      message: `Comment ${payload.action}: ignored (only new comments are stored)`,
      updated: [],
      skipped: [],
    };
  const pr = payload.issue.number;
  const matches = await bugsForPull(db, payload.repository, pr);
  if (!matches) return { message: 'No project has this repository', updated: [], skipped: [], recorded: [] };
  if (!matches.length) return { message: `No bug has PR #${pr}`, updated: [], skipped: [], recorded: [] };
  const { comment } = payload;
  const login = loginOf(comment.user, payload.sender);
  const data = {
    pr_number: pr,
    ...(comment.id != null && { comment_id: comment.id }),
    ...(comment.path && { path: comment.path }),
    ...(comment.line != null && { line: comment.line }),
    ...(comment.html_url && { html_url: comment.html_url }),
  };
  await activityInsert(
    db,
    matches.map((bug) => ({
      bugId: bug.id,
      kind: 'gitea_comment',
      actor: `gitea:${login}`,
      body: comment.body ?? '',
      data,
    })),
  );
  return {
    message: `Comment by ${login} on PR #${pr}: stored for ${matches.length} bug(s)`,
    updated: [],
    skipped: [],
    recorded: matches.map((b) => b.id),
  };
}

export const deploymentSchema = z.object({
  project_id: z.string().min(1),
  status: z.string(),
  commit: z.string().nullish(),
  deployed_at: z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date-time')
    .nullish(),
});

/**
 * A successful deploy makes the project's MERGED bugs whose fix was merged at or before
 * the deploy DEPLOYED: history and update in one batch, so they cannot disagree.
 */
export async function handleDeployment(
  db: Db,
  payload: z.infer<typeof deploymentSchema>,
): Promise<WebhookOutcome> {
  if (payload.status.toLowerCase() !== 'success') {
    return { message: `Deployment status ${payload.status} ignored`, updated: [], skipped: [] };
  }
  const deployedAt = payload.deployed_at
    ? new Date(payload.deployed_at).toISOString()
    : new Date().toISOString();
  const moved = await moveBugs(db, {
    from: ['MERGED'],
    to: 'DEPLOYED',
    where: and(eq(bugs.projectId, payload.project_id), lte(bugs.mergedAt, deployedAt)),
    actor: 'deploy',
    note: `deployed${payload.commit ? ` at ${payload.commit.slice(0, 12)}` : ''}`,
    at: new Date().toISOString(),
    set: { deployedAt },
  });
  return {
    message: `${moved.length} bug(s) deployed`,
    updated: moved.map((bug) => ({ id: bug.id, status: bug.status })),
    skipped: [],
  };
}
