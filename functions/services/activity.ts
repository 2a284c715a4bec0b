import { and, asc, desc, eq, gt } from 'drizzle-orm';
import { type ActivityRow, bugActivity } from '../../schema';
import type { Db } from '../lib/db';

/**
 * A bug's activity: what happened around its pull request besides status changes.
 *   review_approved, review_changes_requested, merge_requested, pr_closed — review cockpit actions,
 *     by a person (actor `person`, body = the note) or by the auto-approval policy (actor `policy`);
 *   auto_approved (body = the rule that allowed it), auto_approval_skipped (body = why not);
 *   reviewers_requested, reviewers_request_failed (body = Gitea's reason);
 *   gitea_review, gitea_comment — reviews and comments Gitea reported by webhook (actor `gitea:<login>`).
 */
export const ACTIVITY_KINDS = [
  'review_approved',
  'review_changes_requested',
  'merge_requested',
  'pr_closed',
  'auto_approved',
  'auto_approval_skipped',
  'reviewers_requested',
  'reviewers_request_failed',
  'gitea_review',
  'gitea_comment',
] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/** The bug page shows this many of the latest rows; the agent pages through all of them. */
export const DETAIL_ACTIVITY = 200;
export const ACTIVITY_PAGE = 500;

/** A text kept in a row: at most this many characters (a review is prose, not a file). */
export const MAX_ACTIVITY_BODY = 20_000;

export interface NewActivity {
  bugId: number;
  kind: ActivityKind;
  actor: string;
  body?: string | null;
  data?: Record<string, unknown>;
  at?: string;
}

export function toApiActivity(row: ActivityRow) {
  return {
    id: row.id,
    kind: row.kind as ActivityKind,
    actor: row.actor,
    body: row.body,
    data: row.data ?? {},
    at: row.at,
  };
}

export type ApiActivity = ReturnType<typeof toApiActivity>;

const clip = (text: string | null | undefined) =>
  text == null ? null : text.length > MAX_ACTIVITY_BODY ? `${text.slice(0, MAX_ACTIVITY_BODY - 1)}…` : text;

/** The insert for some rows, to run alone or inside a batch with the change they go with. */
export function activityInsert(db: Db, rows: NewActivity[]) {
  const at = new Date().toISOString();
  return db
    .insert(bugActivity)
    .values(
      rows.map((row) => ({
        bugId: row.bugId,
        kind: row.kind,
        actor: row.actor,
        body: clip(row.body),
        data: row.data ?? {},
        at: row.at ?? at,
      })),
    )
    .returning();
}

export async function recordActivity(db: Db, rows: NewActivity[]): Promise<ApiActivity[]> {
  if (!rows.length) return [];
  return (await activityInsert(db, rows)).map(toApiActivity);
}

/** The latest `limit` rows, oldest first (the bug page). */
export async function recentActivity(db: Db, bugId: number, limit = DETAIL_ACTIVITY): Promise<ApiActivity[]> {
  const rows = await db
    .select()
    .from(bugActivity)
    .where(eq(bugActivity.bugId, bugId))
    .orderBy(desc(bugActivity.id))
    .limit(limit);
  return rows.reverse().map(toApiActivity);
}

/** Rows after `afterId`, oldest first, at most `limit` (the agent pages with the last id it saw). */
export async function activityAfter(
  db: Db,
  bugId: number,
  afterId = 0,
  limit = ACTIVITY_PAGE,
): Promise<ApiActivity[]> {
  const rows = await db
    .select()
    .from(bugActivity)
    .where(and(eq(bugActivity.bugId, bugId), gt(bugActivity.id, afterId)))
    .orderBy(asc(bugActivity.id))
    .limit(limit);
  return rows.map(toApiActivity);
}
