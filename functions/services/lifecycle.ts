import { and, eq, inArray, isNotNull, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { type BugRow, bugs, occurrences, projects, repairReports } from '../../schema';
import type { Config } from '../lib/config';
import { batch, type Db, deleteInChunks } from '../lib/db';
import { notFound } from '../lib/errors';
import {
  type AlertConfig,
  type FlushOptions,
  flushAlerts,
  purgeReadNotifications,
  purgeSettledAlerts,
  queueRecurring,
  queueReviewReminders,
} from './alerts';
import { getBugRow } from './bugs';
import { indexNewBugs } from './search-index';
import { historyRows, moveBugs } from './transitions';

export const LEASE_EXPIRIES_BEFORE_FAILED = 3;

export interface ClaimRequest {
  agent_id: string;
  project_id?: string;
  source?: string;
  limit: number;
  lease_seconds: number;
}

/**
 * Hands out review follow-ups first (FIXING bugs a reviewer sent back, waiting unclaimed with
 * their PR), then NEW bugs. Each kind is one batch that picks and flips its bugs: SQLite runs
 * write transactions one at a time, so two agents claiming at once never get the same bug.
 */
export async function claimBugs(db: Db, request: ClaimRequest): Promise<BugRow[]> {
  const now = new Date();
  const at = now.toISOString();
  const leaseUntil = new Date(now.getTime() + request.lease_seconds * 1000).toISOString();
  const filters = [];
  if (request.project_id) filters.push(eq(bugs.projectId, request.project_id));
  if (request.source) filters.push(eq(bugs.source, request.source));
  const lease = { claimedBy: request.agent_id, leaseExpiresAt: leaseUntil };
  const actor = `agent:${request.agent_id}`;

  const followUps = await claimFollowUps(db, {
    where: and(...filters),
    limit: request.limit,
    actor,
    at,
    set: lease,
  });
  const room = request.limit - followUps.length;
  if (room <= 0) return followUps;
  const candidates = db
    .select({ id: bugs.id })
    .from(bugs)
    .where(and(eq(bugs.status, 'NEW'), ...filters))
    .orderBy(sql`${bugs.occurrenceCount} DESC`, bugs.id)
    .limit(room);
  const fresh = await moveBugs(db, {
    from: ['NEW'],
    to: 'FIXING',
    where: inArray(bugs.id, candidates),
    actor,
    note: `claimed, lease until ${leaseUntil}`,
    at,
    set: lease,
  });
  return [...followUps, ...fresh];
}

/** A FIXING bug nobody holds that has a PR: a reviewer asked for changes (services/webhooks.ts). */
export const waitingForFollowUp = () =>
  and(eq(bugs.status, 'FIXING'), isNull(bugs.claimedBy), isNotNull(bugs.prNumber));

/**
 * Claims review follow-ups. The status stays FIXING, so this is not a move of the transition
 * table; the history row (FIXING → FIXING) still says who took it, in the same batch.
 */
async function claimFollowUps(
  db: Db,
  claim: { where: SQL | undefined; limit: number; actor: string; at: string; set: Partial<BugRow> },
): Promise<BugRow[]> {
  const picked = inArray(
    bugs.id,
    db
      .select({ id: bugs.id })
      .from(bugs)
      .where(and(waitingForFollowUp(), claim.where))
      .orderBy(bugs.statusChangedAt, bugs.id)
      .limit(claim.limit),
  );
  // The update re-checks that nobody holds the bug, so the batch claims only what it saw free.
  const claimable = and(picked, waitingForFollowUp());
  const results = await batch(db, [
    historyRows(db, claimable, {
      from: 'FIXING',
      to: 'FIXING',
      actor: claim.actor,
      note: `claimed for review follow-up, lease until ${claim.set.leaseExpiresAt}`,
      at: claim.at,
    }),
    db.update(bugs).set(claim.set).where(claimable).returning(),
  ]);
  return results[1] as BugRow[];
}

export interface RepairReportInput {
  agent_id?: string | null;
  analysis?: string | null;
  modified_files: string[];
  diff?: string | null;
  test_passed?: boolean | null;
  test_output?: string | null;
  branch_name?: string | null;
  pr_number?: number | null;
  pr_url?: string | null;
  duration_ms?: number | null;
  tokens_in?: number | null;
  tokens_out?: number | null;
  model?: string | null;
}

export async function addRepairReport(db: Db, bugId: number, input: RepairReportInput) {
  if (!(await getBugRow(db, bugId))) throw notFound('Bug');
  const [row] = await db
    .insert(repairReports)
    .values({
      bugId,
      agentId: input.agent_id ?? null,
      analysis: input.analysis ?? null,
      modifiedFiles: input.modified_files,
      diff: input.diff ?? null,
      testPassed: input.test_passed ?? null,
      testOutput: input.test_output ?? null,
      branchName: input.branch_name ?? null,
      prNumber: input.pr_number ?? null,
      prUrl: input.pr_url ?? null,
      durationMs: input.duration_ms ?? null,
      tokensIn: input.tokens_in ?? null,
      tokensOut: input.tokens_out ?? null,
      model: input.model ?? null,
      createdAt: new Date().toISOString(),
    })
    .returning();
  return row!;
}

export async function setPrInfo(
  db: Db,
  bugId: number,
  info: { pr_number?: number | null; pr_url?: string | null; branch_name?: string | null },
) {
  const set = {
    ...(info.pr_number !== undefined && { prNumber: info.pr_number }),
    ...(info.pr_url !== undefined && { prUrl: info.pr_url }),
    ...(info.branch_name !== undefined && { branchName: info.branch_name }),
  };
  // Nothing to change (an empty body) answers the bug as it is.
  const [row] = Object.keys(set).length
    ? await db.update(bugs).set(set).where(eq(bugs.id, bugId)).returning()
    : [await getBugRow(db, bugId)];
  if (!row) throw notFound('Bug');
  return row;
}

export interface SweepResult {
  leases_expired: number;
  reopened: number;
  failed: number;
  occurrences_purged: number;
  reminders_queued: number;
  recurring_queued: number;
  alerts_sent: number;
  alerts_held: number;
  alerts_retrying: number;
  alerts_dead: number;
  alerts_suppressed: number;
  alerts_purged: number;
  notifications_purged: number;
}

export interface SweepOptions {
  retentionDays: number;
  now?: Date;
  /** Targets and windows for the alerts the sweep queues and flushes. */
  alerts: AlertConfig & Pick<Config, 'REVIEW_REMINDER_HOURS'>;
  flush?: Omit<FlushOptions, 'now'>;
}

/** The cron sweep: Worker `scheduled`, the Node timer and POST /api/v1/admin/sweep. */
export async function sweep(db: Db, options: SweepOptions): Promise<SweepResult> {
  const now = options.now ?? new Date();
  const at = now.toISOString();
  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000).toISOString();
  const lastExpiry = sql`${bugs.leaseExpiryCount} + 1 >= ${LEASE_EXPIRIES_BEFORE_FAILED}`;
  const { alerts } = options;
  // The last expiry makes the bug FAILED, which people hear about like any other failure.
  const moved = await moveBugs(db, {
    from: ['FIXING'],
    to: { when: lastExpiry, matched: 'FAILED', otherwise: 'NEW' },
    where: lt(bugs.leaseExpiresAt, at),
    actor: 'sweep',
    note: sql`'lease of ' || coalesce(${bugs.claimedBy}, '?') || ' expired (' || (${bugs.leaseExpiryCount} + 1) || ' of ${sql.raw(String(LEASE_EXPIRIES_BEFORE_FAILED))})'`,
    at,
    set: { leaseExpiryCount: sql`${bugs.leaseExpiryCount} + 1` as unknown as number },
  });
  const occurrencesPurged = await deleteInChunks(db, occurrences, lt(occurrences.receivedAt, cutoff));
  // Whatever the ingest path left for the search index (bugs written by scripts, a crash).
  await indexNewBugs(db);
  // 0 hours turns reminders off; a window of 0 turns the throttle, and so "still occurring", off.
  const reminders =
    alerts.REVIEW_REMINDER_HOURS > 0 ? await queueReviewReminders(db, now, alerts.REVIEW_REMINDER_HOURS) : [];
  const recurring =
    alerts.ALERT_THROTTLE_MINUTES > 0 ? await queueRecurring(db, now, alerts.ALERT_THROTTLE_MINUTES) : [];
  const alertsPurged = await purgeSettledAlerts(db, cutoff);
  const notificationsPurged = await purgeReadNotifications(db, cutoff);
  const flushed = await flushAlerts(db, alerts, { ...options.flush, now });
  await refreshPlannerStats(db, 'optimize');
  return {
    leases_expired: moved.length,
    reopened: moved.filter((m) => m.status === 'NEW').length,
    failed: moved.filter((m) => m.status === 'FAILED').length,
    occurrences_purged: occurrencesPurged,
    reminders_queued: reminders.length,
    recurring_queued: recurring.length,
    alerts_sent: flushed.sent,
    alerts_held: flushed.held,
    alerts_retrying: flushed.retrying,
    alerts_dead: flushed.dead,
    alerts_suppressed: flushed.suppressed,
    alerts_purged: alertsPurged,
    notifications_purged: notificationsPurged,
  };
}

/**
 * Without table statistics SQLite takes every indexed equality as selective, and on a large
 * store it picks e.g. the level index and sorts 100k rows instead of walking last_seen
 * (140 ms instead of 15 ms per page). A full ANALYZE runs at start-up (about 90 ms per 100k
 * bugs; a sampled one misjudges low-cardinality columns); the sweep runs `PRAGMA optimize`,
 * which re-analyzes only tables that changed a lot. Stores that refuse either keep working.
 */
export async function refreshPlannerStats(db: Db, mode: 'full' | 'optimize'): Promise<void> {
  try {
    await db.run(mode === 'full' ? sql`ANALYZE` : sql`PRAGMA optimize`);
  } catch (error) {
    console.warn(
      JSON.stringify({ level: 'warn', msg: 'planner statistics not refreshed', error: String(error) }),
    );
  }
}

/** `https://host/owner/repo.git`, `git@host:owner/repo`, `owner/repo` → `owner/repo`. */
export function repoKey(url: string | null | undefined): string | null {
  if (!url) return null;
  const cleaned = url
    .trim()
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
  const match = cleaned.match(/([^/:]+)\/([^/:]+)$/);
  return match ? `${match[1]}/${match[2]}`.toLowerCase() : null;
}

export async function projectsForRepository(db: Db, urls: (string | null | undefined)[]): Promise<string[]> {
  const keys = new Set(urls.map(repoKey).filter((k): k is string => Boolean(k)));
  if (!keys.size) return [];
  const rows = await db.select({ id: projects.id, repoUrl: projects.repoUrl }).from(projects);
  return rows.filter((row) => keys.has(repoKey(row.repoUrl) ?? '')).map((row) => row.id);
}
