import { createHmac } from 'node:crypto';
import { and, eq, inArray, lte } from 'drizzle-orm';
import { z } from 'zod';
import { bugs } from '../../schema';
import type { Db } from '../lib/db';
import { safeEqual } from '../lib/secrets';
import { canTransition } from '../lib/vocabulary';
import { projectsForRepository } from './lifecycle';
import { moveBug, moveBugs } from './transitions';

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
  repository: z.object({
    full_name: z.string().nullish(),
    clone_url: z.string().nullish(),
    html_url: z.string().nullish(),
    ssh_url: z.string().nullish(),
  }),
});

export type GiteaPullRequest = z.infer<typeof giteaPullRequestSchema>;

export interface WebhookOutcome {
  message: string;
  updated: { id: number; status: string }[];
  skipped: { id: number; status: string; reason: string }[];
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
