import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { alertOutbox, bugs, occurrences, projects, statusHistory } from '../../schema';
import { batch, type Db } from '../lib/db';
import type { NormalisedReport } from './report';

export const OCCURRENCES_KEPT = 100;

export type IngestOutcome = 'new' | 'dedup' | 'regression';

export interface IngestResult {
  id: number;
  outcome: IngestOutcome;
  status: string;
}

/** SPEC §4 answer bodies; clients parse these exact strings. */
export function ingestAnswer(result: IngestResult) {
  switch (result.outcome) {
    case 'new':
      return { message: 'Log reported', id: result.id };
    case 'regression':
      return { message: 'Regression detected, reopened', id: result.id };
    default:
      return { message: 'Log deduplicated', id: result.id, status: result.status };
  }
}

/** Anything that stores reports: direct per request (Workers) or group commit (Node). */
export interface ReportSink {
  submit(report: NormalisedReport): Promise<IngestResult>;
  drain?(): Promise<void>;
}

interface Group {
  reports: NormalisedReport[];
  indexes: number[];
}

/** Reports that share a fingerprint and commit go through one upsert with a count of k. */
function groupReports(reports: NormalisedReport[]): Group[] {
  const groups = new Map<string, Group>();
  reports.forEach((report, index) => {
    const key = `${report.fingerprint}\u0000${report.commitHash ?? ''}`;
    const group = groups.get(key) ?? { reports: [], indexes: [] };
    group.reports.push(report);
    group.indexes.push(index);
    groups.set(key, group);
  });
  return [...groups.values()];
}

// A DEPLOYED bug that recurs is reopened; a MERGED one only when the report runs the merge
// commit itself (the fix is live there and did not work). Short hashes match by prefix.
const reopenCondition = sql`(${bugs.status} = 'DEPLOYED' OR (${bugs.status} = 'MERGED' AND ${bugs.mergeCommitSha} IS NOT NULL AND length(excluded.commit_hash) >= 7 AND substr(${bugs.mergeCommitSha}, 1, length(excluded.commit_hash)) = excluded.commit_hash))`;

function projectUpsert(db: Db, report: NormalisedReport) {
  const insert = db.insert(projects).values({
    id: report.projectId,
    repoUrl: report.repoUrl,
    createdAt: report.receivedAt,
    updatedAt: report.receivedAt,
  });
  if (!report.repoUrl) return insert.onConflictDoNothing();
  return insert.onConflictDoUpdate({
    target: projects.id,
    set: { repoUrl: sql`excluded.repo_url`, updatedAt: sql`excluded.updated_at` },
    setWhere: isNull(projects.repoUrl),
  });
}

function bugUpsert(db: Db, group: Group) {
  const first = group.reports[0]!;
  const last = group.reports[group.reports.length - 1]!;
  const count = group.reports.length;
  return db
    .insert(bugs)
    .values({
      projectId: first.projectId,
      fingerprint: first.fingerprint,
      source: first.source,
      level: last.level,
      environment: last.environment,
      status: first.initialStatus,
      errorType: first.errorType,
      errorMessage: first.message,
      filePath: first.filePath,
      lineNumber: first.lineNumber,
      stackTrace: first.stackTrace,
      context: first.context,
      version: last.version,
      commitHash: last.commitHash,
      occurrenceCount: count,
      firstSeen: first.receivedAt,
      lastSeen: last.receivedAt,
      statusChangedAt: first.receivedAt,
    })
    .onConflictDoUpdate({
      target: bugs.fingerprint,
      set: {
        occurrenceCount: sql`${bugs.occurrenceCount} + ${count}`,
        lastSeen: sql`max(${bugs.lastSeen}, excluded.last_seen)`,
        level: sql`excluded.level`,
        environment: sql`excluded.environment`,
        version: sql`coalesce(excluded.version, ${bugs.version})`,
        commitHash: sql`coalesce(excluded.commit_hash, ${bugs.commitHash})`,
        reopenedFrom: sql`CASE WHEN ${reopenCondition} THEN ${bugs.status} ELSE NULL END`,
        regressionCount: sql`${bugs.regressionCount} + CASE WHEN ${reopenCondition} THEN 1 ELSE 0 END`,
        statusChangedAt: sql`CASE WHEN ${reopenCondition} THEN excluded.last_seen ELSE ${bugs.statusChangedAt} END`,
        claimedBy: sql`CASE WHEN ${reopenCondition} THEN NULL ELSE ${bugs.claimedBy} END`,
        leaseExpiresAt: sql`CASE WHEN ${reopenCondition} THEN NULL ELSE ${bugs.leaseExpiresAt} END`,
        leaseExpiryCount: sql`CASE WHEN ${reopenCondition} THEN 0 ELSE ${bugs.leaseExpiryCount} END`,
        // Must come last: SQLite evaluates every SET expression against the old row, so the
        // conditions above still see the status before the reopen.
        status: sql`CASE WHEN ${reopenCondition} THEN 'NEW' ELSE ${bugs.status} END`,
      },
    })
    .returning({
      id: bugs.id,
      status: bugs.status,
      occurrenceCount: bugs.occurrenceCount,
      reopenedFrom: bugs.reopenedFrom,
    });
}

const bugIdOf = (fingerprint: string) =>
  sql`(SELECT ${bugs.id} FROM ${bugs} WHERE ${bugs.fingerprint} = ${fingerprint})`;

/** Records the bug's first status, or the reopen, in the same batch as the upsert that caused it. */
function historyInsert(db: Db, group: Group) {
  const first = group.reports[0]!;
  return db.insert(statusHistory).select(
    db
      .select({
        id: sql<number>`NULL`.as('id'),
        bugId: bugs.id,
        fromStatus: bugs.reopenedFrom,
        toStatus: bugs.status,
        actor: sql<string>`'ingest'`.as('actor'),
        note: sql<string>`CASE WHEN ${bugs.reopenedFrom} IS NOT NULL THEN 'Regression detected, reopened'
           WHEN ${bugs.status} = 'IGNORED' THEN 'Project registration report'
           ELSE 'First seen' END`.as('note'),
        at: sql<string>`${first.receivedAt}`.as('at'),
      })
      .from(bugs)
      .where(
        and(
          eq(bugs.fingerprint, first.fingerprint),
          sql`(${bugs.reopenedFrom} IS NOT NULL OR ${bugs.occurrenceCount} = ${group.reports.length})`,
        ),
      ),
  );
}

/** A new bug or a regression queues an alert in the same batch (IGNORED bugs never alert). */
function alertInsert(db: Db, group: Group) {
  const first = group.reports[0]!;
  return db.insert(alertOutbox).select(
    db
      .select({
        id: sql<number>`NULL`.as('id'),
        bugId: bugs.id,
        projectId: bugs.projectId,
        kind: sql<
          'new_bug' | 'regression'
        >`CASE WHEN ${bugs.reopenedFrom} IS NOT NULL THEN 'regression' ELSE 'new_bug' END`.as('kind'),
        state: sql<string>`'pending'`.as('state'),
        attempts: sql<number>`0`.as('attempts'),
        nextAttemptAt: sql<string>`${first.receivedAt}`.as('next_attempt_at'),
        lastError: sql<string | null>`NULL`.as('last_error'),
        createdAt: sql<string>`${first.receivedAt}`.as('created_at'),
        sentAt: sql<string | null>`NULL`.as('sent_at'),
      })
      .from(bugs)
      .where(
        and(
          eq(bugs.fingerprint, first.fingerprint),
          sql`${bugs.status} <> 'IGNORED'`,
          sql`(${bugs.reopenedFrom} IS NOT NULL OR ${bugs.occurrenceCount} = ${group.reports.length})`,
        ),
      ),
  );
}

function occurrenceInsert(db: Db, group: Group) {
  const bugId = bugIdOf(group.reports[0]!.fingerprint);
  return db.insert(occurrences).values(
    group.reports.map((report) => ({
      bugId: sql`${bugId}` as unknown as number,
      receivedAt: report.receivedAt,
      occurredAt: report.occurredAt,
      environment: report.environment,
      level: report.level,
      version: report.version,
      commitHash: report.commitHash,
      message: report.message,
      stackTrace: report.stackTrace,
      context: report.context,
    })),
  );
}

function occurrenceTrim(db: Db, fingerprint: string) {
  const bugId = bugIdOf(fingerprint);
  const cutoff = sql`(SELECT ${occurrences.id} FROM ${occurrences} WHERE ${occurrences.bugId} = ${bugId} ORDER BY ${occurrences.id} DESC LIMIT 1 OFFSET ${OCCURRENCES_KEPT - 1})`;
  return db.delete(occurrences).where(and(eq(occurrences.bugId, bugId), lt(occurrences.id, cutoff)));
}

/**
 * Stores reports in one atomic batch: project rows, bug upserts (dedup happens inside the
 * upsert, never read-then-write), history, occurrences and the history cap. Returns one
 * result per report, in order.
 */
export async function writeReports(
  db: Db,
  reports: NormalisedReport[],
  knownProjects?: ProjectCache,
): Promise<IngestResult[]> {
  const groups = groupReports(reports);
  const items: BatchItem<'sqlite'>[] = [];
  const seenProjects = new Set<string>();
  for (const report of reports) {
    if (seenProjects.has(report.projectId)) continue;
    seenProjects.add(report.projectId);
    if (knownProjects?.isSettled(report.projectId, report.repoUrl)) continue;
    items.push(projectUpsert(db, report));
  }
  const upsertAt: number[] = [];
  const trimmed = new Set<string>();
  for (const group of groups) {
    upsertAt.push(items.length);
    items.push(
      bugUpsert(db, group),
      historyInsert(db, group),
      alertInsert(db, group),
      occurrenceInsert(db, group),
    );
    const { fingerprint } = group.reports[0]!;
    if (!trimmed.has(fingerprint)) {
      trimmed.add(fingerprint);
      items.push(occurrenceTrim(db, fingerprint));
    }
  }
  const outputs = await batch(db, items);
  for (const report of reports) knownProjects?.remember(report.projectId, report.repoUrl);

  const results: IngestResult[] = new Array(reports.length);
  groups.forEach((group, g) => {
    const rows = outputs[upsertAt[g]!] as {
      id: number;
      status: string;
      occurrenceCount: number;
      reopenedFrom: string | null;
    }[];
    const row = rows[0]!;
    group.indexes.forEach((reportIndex, k) => {
      let outcome: IngestOutcome = 'dedup';
      if (k === 0 && row.occurrenceCount === group.reports.length) outcome = 'new';
      else if (k === 0 && row.reopenedFrom) outcome = 'regression';
      results[reportIndex] = { id: row.id, outcome, status: row.status };
    });
  });
  return results;
}

/**
 * Remembers projects that exist and already have a repo_url (or were given none), so the
 * hot path skips the project upsert. A miss only costs one idempotent statement.
 */
export class ProjectCache {
  private readonly settled = new Map<string, boolean>();

  isSettled(projectId: string, repoUrl: string | null): boolean {
    const hasRepo = this.settled.get(projectId);
    if (hasRepo === undefined) return false;
    return hasRepo || !repoUrl;
  }

  remember(projectId: string, repoUrl: string | null): void {
    if (!this.settled.get(projectId)) this.settled.set(projectId, Boolean(repoUrl));
  }

  forget(projectId: string): void {
    this.settled.delete(projectId);
  }
}

export class DirectSink implements ReportSink {
  constructor(
    private readonly db: Db,
    private readonly knownProjects?: ProjectCache,
  ) {}

  async submit(report: NormalisedReport): Promise<IngestResult> {
    const [result] = await writeReports(this.db, [report], this.knownProjects);
    return result!;
  }
}
