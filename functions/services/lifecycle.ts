import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import {
  alertOutbox,
  type BugRow,
  bugs,
  occurrences,
  projects,
  repairReports,
  statusHistory,
} from '../../schema';
import type { Config } from '../lib/config';
import { batch, type Db, deleteInChunks } from '../lib/db';
import { ApiError, notFound } from '../lib/errors';
import { STATUSES, type Status, TRANSITIONS } from '../lib/vocabulary';
import {
  type AlertConfig,
  type FlushOptions,
  flushAlerts,
  outboxRowOf,
  purgeSettledAlerts,
  queueRecurring,
  queueReviewReminders,
} from './alerts';
import { getBugRow } from './bugs';

export { STATUSES, type Status, TRANSITIONS } from '../lib/vocabulary';

/** Names of the earlier nine-state workflow, still sent by older clients. */
export const LEGACY_STATUSES: Record<string, Status> = {
  VERIFYING: 'NEW',
  PENDING_FIX: 'NEW',
  FIXED: 'PENDING_REVIEW',
  VERIFIED: 'MERGED',
  FIX_FAILED: 'FAILED',
  CANNOT_REPRODUCE: 'FAILED',
};

export function parseStatus(value: string): Status | undefined {
  const upper = value.trim().toUpperCase();
  const status = LEGACY_STATUSES[upper] ?? upper;
  return (STATUSES as readonly string[]).includes(status) ? (status as Status) : undefined;
}

export const canTransition = (from: string, to: Status) => (TRANSITIONS[from as Status] ?? []).includes(to);

export const LEASE_EXPIRIES_BEFORE_FAILED = 3;

function invalidTransition(from: string, to: Status) {
  return new ApiError(409, 'invalid_transition', `A bug cannot move from ${from} to ${to}`, {
    from,
    to,
    allowed: TRANSITIONS[from as Status] ?? [],
  });
}

/** Fields that follow from entering a status, so no caller can forget them. */
function entering(to: Status, at: string): Partial<typeof bugs.$inferInsert> {
  const released = { claimedBy: null, leaseExpiresAt: null };
  switch (to) {
    case 'NEW':
      return { ...released, leaseExpiryCount: 0 };
    case 'FIXING':
      return {};
    case 'MERGED':
      return { ...released, mergedAt: sql`coalesce(${bugs.mergedAt}, ${at})` as unknown as string };
    case 'DEPLOYED':
      return { ...released, deployedAt: at };
    default:
      return released;
  }
}

export interface StatusChange {
  actor: string;
  note?: string | null;
  at?: string;
  /** Extra columns written in the same statement (PR data from a webhook, say). */
  set?: Partial<typeof bugs.$inferInsert>;
}

/**
 * Moves one bug, compare-and-set on the status it was read in, with its history row in
 * the same batch (`changes()` makes the history insert conditional on the update).
 */
export async function changeStatus(db: Db, id: number, to: Status, change: StatusChange): Promise<BugRow> {
  const current = await getBugRow(db, id);
  if (!current) throw notFound('Bug');
  if (!canTransition(current.status, to)) throw invalidTransition(current.status, to);
  const at = change.at ?? new Date().toISOString();
  const [updated] = (await batch(db, [
    db
      .update(bugs)
      .set({ ...entering(to, at), ...change.set, status: to, statusChangedAt: at })
      .where(and(eq(bugs.id, id), eq(bugs.status, current.status)))
      .returning(),
    historyIfChanged(db, id, current.status, to, change.actor, change.note ?? null, at),
    ...(ALERTING_STATUSES[to] ? [alertIfChanged(db, id, ALERTING_STATUSES[to], at)] : []),
  ])) as [BugRow[]];
  if (!updated?.length) {
    throw new ApiError(409, 'invalid_transition', `Bug ${id} changed status concurrently; reload and retry`);
  }
  return updated[0]!;
}

/** Statuses a person wants to hear about; the alert is queued with the change itself. */
const ALERTING_STATUSES: Partial<Record<Status, 'failed' | 'pr_opened'>> = {
  FAILED: 'failed',
  PENDING_REVIEW: 'pr_opened',
};

/** Runs right after the history insert, so `changes()` is 1 only when the status moved. */
function alertIfChanged(db: Db, bugId: number, kind: 'failed' | 'pr_opened', at: string) {
  return db.insert(alertOutbox).select(
    db
      .select(outboxRowOf(kind, at))
      .from(bugs)
      .where(and(eq(bugs.id, bugId), sql`changes() > 0`)),
  );
}

function historyIfChanged(
  db: Db,
  bugId: number,
  from: string,
  to: string,
  actor: string,
  note: string | null,
  at: string,
) {
  return db.insert(statusHistory).select(
    db
      .select({
        id: sql<number>`NULL`.as('id'),
        bugId: bugs.id,
        fromStatus: sql<string>`${from}`.as('from_status'),
        toStatus: sql<string>`${to}`.as('to_status'),
        actor: sql<string>`${actor}`.as('actor'),
        note: sql<string | null>`${note}`.as('note'),
        at: sql<string>`${at}`.as('at'),
      })
      .from(bugs)
      .where(and(eq(bugs.id, bugId), sql`changes() > 0`)),
  );
}

export interface ClaimRequest {
  agent_id: string;
  project_id?: string;
  source?: string;
  limit: number;
  lease_seconds: number;
}

/**
 * One UPDATE picks and flips the bugs: SQLite runs writes one at a time, so two agents
 * claiming at once can never both see the same bug as NEW.
 */
export async function claimBugs(db: Db, request: ClaimRequest): Promise<BugRow[]> {
  const now = new Date();
  const at = now.toISOString();
  const leaseUntil = new Date(now.getTime() + request.lease_seconds * 1000).toISOString();
  const conditions = [eq(bugs.status, 'NEW')];
  if (request.project_id) conditions.push(eq(bugs.projectId, request.project_id));
  if (request.source) conditions.push(eq(bugs.source, request.source));
  const candidates = db
    .select({ id: bugs.id })
    .from(bugs)
    .where(and(...conditions))
    .orderBy(sql`${bugs.occurrenceCount} DESC`, bugs.id)
    .limit(request.limit);
  const actor = `agent:${request.agent_id}`;
  const [claimed] = (await batch(db, [
    db
      .update(bugs)
      .set({ status: 'FIXING', claimedBy: request.agent_id, leaseExpiresAt: leaseUntil, statusChangedAt: at })
      .where(and(inArray(bugs.id, candidates), eq(bugs.status, 'NEW')))
      .returning(),
    db.insert(statusHistory).select(
      db
        .select({
          id: sql<number>`NULL`.as('id'),
          bugId: bugs.id,
          fromStatus: sql<string>`'NEW'`.as('from_status'),
          toStatus: sql<string>`'FIXING'`.as('to_status'),
          actor: sql<string>`${actor}`.as('actor'),
          note: sql<string>`${`claimed, lease until ${leaseUntil}`}`.as('note'),
          at: sql<string>`${at}`.as('at'),
        })
        .from(bugs)
        .where(
          and(
            eq(bugs.status, 'FIXING'),
            eq(bugs.claimedBy, request.agent_id),
            eq(bugs.statusChangedAt, at),
            eq(bugs.leaseExpiresAt, leaseUntil),
          ),
        ),
    ),
  ])) as [BugRow[]];
  return claimed ?? [];
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
  const [row] = await db
    .update(bugs)
    .set({
      ...(info.pr_number !== undefined && { prNumber: info.pr_number }),
      ...(info.pr_url !== undefined && { prUrl: info.pr_url }),
      ...(info.branch_name !== undefined && { branchName: info.branch_name }),
    })
    .where(eq(bugs.id, bugId))
    .returning();
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
  const expired = and(eq(bugs.status, 'FIXING'), lt(bugs.leaseExpiresAt, at));
  const lastExpiry = sql`${bugs.leaseExpiryCount} + 1 >= ${LEASE_EXPIRIES_BEFORE_FAILED}`;
  const nextStatus = sql<string>`CASE WHEN ${lastExpiry} THEN 'FAILED' ELSE 'NEW' END`;
  const { alerts } = options;
  const [, , moved] = (await batch(db, [
    // History first, while the rows still show who held the lease.
    db.insert(statusHistory).select(
      db
        .select({
          id: sql<number>`NULL`.as('id'),
          bugId: bugs.id,
          fromStatus: sql<string>`'FIXING'`.as('from_status'),
          toStatus: nextStatus.as('to_status'),
          actor: sql<string>`'sweep'`.as('actor'),
          note: sql<string>`'lease of ' || coalesce(${bugs.claimedBy}, '?') || ' expired (' || (${bugs.leaseExpiryCount} + 1) || ' of ${sql.raw(String(LEASE_EXPIRIES_BEFORE_FAILED))})'`.as(
            'note',
          ),
          at: sql<string>`${at}`.as('at'),
        })
        .from(bugs)
        .where(expired),
    ),
    // The last expiry makes the bug FAILED, which people hear about like any other failure.
    db
      .insert(alertOutbox)
      .select(db.select(outboxRowOf('failed', at)).from(bugs).where(and(expired, lastExpiry))),
    db
      .update(bugs)
      .set({
        status: nextStatus,
        leaseExpiryCount: sql`${bugs.leaseExpiryCount} + 1`,
        claimedBy: null,
        leaseExpiresAt: null,
        statusChangedAt: at,
      })
      .where(expired)
      .returning({ id: bugs.id, status: bugs.status }),
  ])) as [unknown, unknown, { id: number; status: string }[]];
  const occurrencesPurged = await deleteInChunks(db, occurrences, lt(occurrences.receivedAt, cutoff));
  // 0 hours turns reminders off; a window of 0 turns the throttle, and so "still occurring", off.
  const reminders =
    alerts.REVIEW_REMINDER_HOURS > 0 ? await queueReviewReminders(db, now, alerts.REVIEW_REMINDER_HOURS) : [];
  const recurring =
    alerts.ALERT_THROTTLE_MINUTES > 0 ? await queueRecurring(db, now, alerts.ALERT_THROTTLE_MINUTES) : [];
  const alertsPurged = await purgeSettledAlerts(db, cutoff);
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
