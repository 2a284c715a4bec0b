import { and, asc, count, desc, eq, inArray, max, type SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
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
import { recentActivity } from './activity';

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

/** The trigram index finds substrings of at least this many characters. */
export const SEARCH_MIN_INDEXED = 3;

/**
 * `q` as one FTS5 phrase: inside double quotes every character is literal text (operators,
 * `*`, `-`, `:`, NEAR, parentheses), and a quote is written twice. The trigram tokenizer then
 * matches the phrase as a substring, so no query syntax ever reaches the user.
 */
export const searchPhrase = (text: string) => `"${text.replaceAll('"', '""')}"`;

/**
 * Substring search in the error type and message (docs/performance.md, reads). Three
 * characters or more use the trigram index (bug_search), which ignores case for every letter
 * with a case. Shorter text has no trigram to look up: it is matched with LIKE over the bugs
 * in scope, which ignores case for ASCII letters only. So are the newest bugs, which the index
 * takes a moment after their write (services/search-index.ts): those above
 * bug_search_state.indexed_through, a rowid range.
 */
const indexed = (q: string) => [...q].length >= SEARCH_MIN_INDEXED;
const searchMatch = (q: string) => sql`bug_search MATCH ${searchPhrase(q)}`;
const likeEither = (q: string) => {
  const pattern = `%${escapeLike(q)}%`;
  return sql`(${bugs.errorType} LIKE ${pattern} ESCAPE '\\' OR ${bugs.errorMessage} LIKE ${pattern} ESCAPE '\\')`;
};
const NOT_YET_INDEXED = sql`(SELECT indexed_through FROM bug_search_state)`;

/** Every row of bug_search is a bug, so `q` alone is counted in the index without the bugs. */
const onlySearch = (f: BugFilters) =>
  Boolean(
    f.q &&
      indexed(f.q) &&
      !f.q.includes('\u0000') &&
      !f.project_id &&
      !f.status?.length &&
      !f.source &&
      !f.level &&
      !f.environment,
  );

function searchCondition(q: string, rowidPlan: boolean): SQL {
  // SQLite's text functions stop at U+0000, so such a pattern would match every bug.
  if (q.includes('\u0000')) return sql`0`;
  if (indexed(q)) {
    const id = rowidPlan ? sql`${bugs.id}` : sql`+${bugs.id}`;
    return sql`(${id} IN (SELECT rowid FROM bug_search WHERE ${searchMatch(q)}) OR (${id} > ${NOT_YET_INDEXED} AND ${likeEither(q)}))`;
  }
  return likeEither(q);
}

/**
 * How the list's rows are found. `filter`: SQLite may start from any index the filters can use
 * (the usual plan, best when few bugs match). `sorted`: it walks the index of the sort order and
 * skips what does not match, stopping after one page; the filters are written so that no other
 * index applies (a unary `+` keeps SQLite from using an index for that term).
 */
type ListPlan = 'filter' | 'sorted';

/** Filters other than `q`: when any is set, its index finds the rows and `q` only tests ids. */
const hasFieldFilters = (f: BugFilters) =>
  Boolean(f.project_id || f.status?.length || f.source || f.level || f.environment);

/**
 * `plan` as above; `count` for the total, where a field filter's index (which holds each bug's
 * id) drives and the search result is only probed by id, instead of every match looking up
 * its bug row to test the field.
 */
export function bugWhere(
  filters: BugFilters,
  plan: ListPlan | 'count' = 'filter',
  sort: BugSort = 'last_seen',
) {
  const conditions: SQL[] = [];
  const sorted = plan === 'sorted';
  // (project_id, last_seen) serves both the filter and that sort.
  const free = (column: SQLiteColumn): SQL =>
    sorted && !(column === bugs.projectId && sort === 'last_seen') ? sql`+${column}` : sql`${column}`;
  if (filters.project_id) conditions.push(eq(free(bugs.projectId), filters.project_id));
  if (filters.status?.length) conditions.push(inArray(free(bugs.status), filters.status));
  if (filters.source) conditions.push(eq(free(bugs.source), filters.source));
  if (filters.level) conditions.push(eq(free(bugs.level), filters.level));
  if (filters.environment) conditions.push(eq(free(bugs.environment), filters.environment));
  const searchDrives = plan === 'filter' || (plan === 'count' && !hasFieldFilters(filters));
  if (filters.q) conditions.push(searchCondition(filters.q, searchDrives));
  return conditions.length ? and(...conditions) : undefined;
}

const sortColumn = {
  last_seen: bugs.lastSeen,
  first_seen: bugs.firstSeen,
  occurrence_count: bugs.occurrenceCount,
};

/**
 * The count comes first and picks the plan for the page. Walking the sort order reads about
 * (offset + page size) × all / matching index entries; starting from the filters reads every
 * matching row and sorts them. SQLite's planner cannot weigh the LIMIT that way, and left alone it sorted
 * 14k rows for `status=NEW` (140 ms) where walking last_seen reads 350. Bug ids are never
 * reused and bugs are never deleted, so max(id) stands in for the number of bugs at no cost.
 * The total stays exact for every filter; each count reads one index (or the search index).
 */
export async function listBugs(db: Db, query: BugListQuery) {
  const offset = (query.page - 1) * query.page_size;
  // Two statements (a subquery beside count(*) would cost SQLite its whole-table count
  // shortcut) in one batch: one round trip to the read thread or D1.
  const [[counted], [newest]] = (await db.batch([
    onlySearch(query)
      ? db
          .select({
            n: sql<number>`(SELECT count(*) FROM bug_search WHERE ${searchMatch(query.q!)}) + (SELECT count(*) FROM ${bugs} WHERE ${bugs.id} > ${NOT_YET_INDEXED} AND ${likeEither(query.q!)})`,
          })
          .from(sql`bug_search_state`)
      : db.select({ n: count() }).from(bugs).where(bugWhere(query, 'count')),
    db.select({ id: max(bugs.id) }).from(bugs),
  ])) as [{ n: number }[], { id: number | null }[]];
  const total = counted?.n ?? 0;
  const page = { total, page: query.page, page_size: query.page_size };
  if (total <= offset) return { items: [], ...page };
  // Walking tests a bug's fields on its row, but `q` (and project_id on its own index) on the
  // id the index entry holds, about ten times cheaper than a row.
  const rowTests =
    Boolean(query.status?.length || query.source || query.level || query.environment) ||
    Boolean(query.project_id && query.sort !== 'last_seen') ||
    Boolean(query.q && !indexed(query.q));
  const walked = ((offset + query.page_size) * Math.max(newest?.id ?? 0, total)) / total;
  const plan: ListPlan = walked * (rowTests ? 1 : 0.1) < total ? 'sorted' : 'filter';
  const direction = query.order === 'asc' ? asc : desc;
  const rows = await db
    .select()
    .from(bugs)
    .where(bugWhere(query, plan, query.sort))
    .orderBy(direction(sortColumn[query.sort]), direction(bugs.id))
    .limit(query.page_size)
    .offset(offset);
  return { items: rows.map(toApiBug), ...page };
}

export async function getBugRow(db: Db, id: number): Promise<BugRow | undefined> {
  const [row] = await db.select().from(bugs).where(eq(bugs.id, id));
  return row;
}

export async function getBugDetail(db: Db, id: number, occurrenceLimit = 20) {
  const row = await getBugRow(db, id);
  if (!row) return undefined;
  const [recent, history, reports, activity] = await Promise.all([
    db
      .select()
      .from(occurrences)
      .where(eq(occurrences.bugId, id))
      .orderBy(desc(occurrences.id))
      .limit(occurrenceLimit),
    db.select().from(statusHistory).where(eq(statusHistory.bugId, id)).orderBy(asc(statusHistory.id)),
    db.select().from(repairReports).where(eq(repairReports.bugId, id)).orderBy(desc(repairReports.id)),
    recentActivity(db, id),
  ]);
  return {
    ...toApiBug(row),
    occurrences: recent.map(toApiOccurrence),
    repair_reports: reports.map(toApiRepairReport),
    history: history.map(toApiHistory),
    activity,
  };
}
