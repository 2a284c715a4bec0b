import { and, asc, count, desc, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import {
  type BugRow,
  bugs,
  type HistoryRow,
  type OccurrenceRow,
  occurrences,
  type RepairReportRow,
  repairReports,
  statusHistory,
} from '../../schema';
import type { Db } from '../lib/db';

export function toApiBug(row: BugRow) {
  return {
    id: row.id,
    project_id: row.projectId,
    fingerprint: row.fingerprint,
    source: row.source,
    level: row.level,
    environment: row.environment,
    status: row.status,
    error: {
      type: row.errorType,
      message: row.errorMessage,
      file_path: row.filePath,
      line_number: row.lineNumber,
      stack_trace: row.stackTrace,
    },
    context: row.context,
    version: row.version,
    commit_hash: row.commitHash,
    occurrence_count: row.occurrenceCount,
    regression_count: row.regressionCount,
    first_seen: row.firstSeen,
    last_seen: row.lastSeen,
    status_changed_at: row.statusChangedAt,
    pr_number: row.prNumber,
    pr_url: row.prUrl,
    branch_name: row.branchName,
    merge_commit_sha: row.mergeCommitSha,
    merged_at: row.mergedAt,
    deployed_at: row.deployedAt,
    claimed_by: row.claimedBy,
    lease_expires_at: row.leaseExpiresAt,
  };
}

export type ApiBug = ReturnType<typeof toApiBug>;

export function toApiOccurrence(row: OccurrenceRow) {
  return {
    id: row.id,
    received_at: row.receivedAt,
    timestamp: row.occurredAt,
    environment: row.environment,
    level: row.level,
    version: row.version,
    commit_hash: row.commitHash,
    message: row.message,
    stack_trace: row.stackTrace,
    context: row.context,
  };
}

export function toApiHistory(row: HistoryRow) {
  return {
    id: row.id,
    from_status: row.fromStatus,
    to_status: row.toStatus,
    actor: row.actor,
    note: row.note,
    at: row.at,
  };
}

export function toApiRepairReport(row: RepairReportRow) {
  return {
    id: row.id,
    bug_id: row.bugId,
    agent_id: row.agentId,
    analysis: row.analysis,
    modified_files: row.modifiedFiles,
    diff: row.diff,
    test_passed: row.testPassed,
    test_output: row.testOutput,
    branch_name: row.branchName,
    pr_number: row.prNumber,
    pr_url: row.prUrl,
    duration_ms: row.durationMs,
    tokens_in: row.tokensIn,
    tokens_out: row.tokensOut,
    model: row.model,
    created_at: row.createdAt,
  };
}

export const BUG_SORTS = ['last_seen', 'first_seen', 'occurrence_count'] as const;
export type BugSort = (typeof BUG_SORTS)[number];

export interface BugFilters {
  project_id?: string;
  status?: string[];
  source?: string;
  level?: string;
  environment?: string;
  q?: string;
}

export interface BugListQuery extends BugFilters {
  page: number;
  page_size: number;
  sort: BugSort;
  order: 'asc' | 'desc';
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

export function bugWhere(filters: BugFilters): SQL | undefined {
  const conditions: SQL[] = [];
  if (filters.project_id) conditions.push(eq(bugs.projectId, filters.project_id));
  if (filters.status?.length) conditions.push(inArray(bugs.status, filters.status));
  if (filters.source) conditions.push(eq(bugs.source, filters.source));
  if (filters.level) conditions.push(eq(bugs.level, filters.level));
  if (filters.environment) conditions.push(eq(bugs.environment, filters.environment));
  if (filters.q) {
    const pattern = `%${escapeLike(filters.q)}%`;
    conditions.push(
      or(
        sql`${bugs.errorType} LIKE ${pattern} ESCAPE '\\'`,
        sql`${bugs.errorMessage} LIKE ${pattern} ESCAPE '\\'`,
      )!,
    );
  }
  return conditions.length ? and(...conditions) : undefined;
}

const sortColumn = {
  last_seen: bugs.lastSeen,
  first_seen: bugs.firstSeen,
  occurrence_count: bugs.occurrenceCount,
};

export async function listBugs(db: Db, query: BugListQuery) {
  const where = bugWhere(query);
  const direction = query.order === 'asc' ? asc : desc;
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(bugs)
      .where(where)
      .orderBy(direction(sortColumn[query.sort]), direction(bugs.id))
      .limit(query.page_size)
      .offset((query.page - 1) * query.page_size),
    db.select({ n: count() }).from(bugs).where(where),
  ]);
  return { items: rows.map(toApiBug), total: total?.n ?? 0, page: query.page, page_size: query.page_size };
}

export async function getBugRow(db: Db, id: number): Promise<BugRow | undefined> {
  const [row] = await db.select().from(bugs).where(eq(bugs.id, id));
  return row;
}

export async function getBugDetail(db: Db, id: number, occurrenceLimit = 20) {
  const row = await getBugRow(db, id);
  if (!row) return undefined;
  const [recent, history, reports] = await Promise.all([
    db
      .select()
      .from(occurrences)
      .where(eq(occurrences.bugId, id))
      .orderBy(desc(occurrences.id))
      .limit(occurrenceLimit),
    db.select().from(statusHistory).where(eq(statusHistory.bugId, id)).orderBy(asc(statusHistory.id)),
    db.select().from(repairReports).where(eq(repairReports.bugId, id)).orderBy(desc(repairReports.id)),
  ]);
  return {
    ...toApiBug(row),
    occurrences: recent.map(toApiOccurrence),
    repair_reports: reports.map(toApiRepairReport),
    history: history.map(toApiHistory),
  };
}
