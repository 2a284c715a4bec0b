import { and, asc, count, desc, eq, gt, inArray, type SQL, sql } from 'drizzle-orm';
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
import { LruMap } from '../lib/lru';
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

/**
 * Text whose every character is ASCII or has no case (CJK, digits, punctuation): LIKE, which
 * folds ASCII letters only, then finds what the index finds, so a row can be tested by LIKE
 * instead of the index's whole result. The one difference left is on the stored side: a sign
 * such as U+212A KELVIN SIGN, which the index folds to an ASCII letter and LIKE does not.
 */
const likeAgrees = (q: string) =>
  [...q].every((ch) => ch < '\u0080' || ch.toLowerCase() === ch.toUpperCase());

/**
 * How `q` is matched, decided once per list request: `phrase` through the trigram index,
 * `like` for text too short for it, `none` for U+0000 (SQLite's text functions stop there, so
 * such a pattern would match every bug).
 */
type Search = 'phrase' | 'like' | 'none';

const searchOf = (q: string): Search => (q.includes('\u0000') ? 'none' : indexed(q) ? 'phrase' : 'like');

/** Filters other than `q`: when any is set, its index finds the rows and `q` only tests ids. */
const hasFieldFilters = (f: BugFilters) =>
  Boolean(f.project_id || f.status?.length || f.source || f.level || f.environment);

/**
 * `q` as a condition on a bug. `byRow`: LIKE on each row the sorted plan walks, instead of the
 * index's whole result (only where LIKE finds the same, see likeAgrees). `rowidPlan`: the
 * search result may drive (a unary `+` keeps it a test otherwise).
 */
function searchCondition(q: string, rowidPlan: boolean, byRow: boolean): SQL {
  const search = searchOf(q);
  if (search === 'none') return sql`0`;
  if (search === 'like' || byRow) return likeEither(q);
  const id = rowidPlan ? sql`${bugs.id}` : sql`+${bugs.id}`;
  return sql`(${id} IN (SELECT rowid FROM bug_search WHERE ${searchMatch(q)}) OR (${id} > ${NOT_YET_INDEXED} AND ${likeEither(q)}))`;
}

/**
 * How the list's rows are found. `filter`: SQLite may start from any index the filters can use
 * (the usual plan, best when few bugs match). `sorted`: it walks the index of the sort order and
 * skips what does not match, stopping after one page; the filters are written so that no other
 * index applies (a unary `+` keeps SQLite from using an index for that term).
 */
type ListPlan = 'filter' | 'sorted';

/**
 * `plan` as above; `count` for the total, where a field filter's index (which holds each bug's
 * id) drives and the search result is only probed by id, instead of every match looking up
 * its bug row to test the field.
 */
export function bugWhere(
  filters: BugFilters,
  plan: ListPlan | 'count' = 'filter',
  sort: BugSort = 'last_seen',
  qByRow = false,
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
  if (filters.q) conditions.push(searchCondition(filters.q, searchDrives, sorted && qByRow));
  return conditions.length ? and(...conditions) : undefined;
}

const sortColumn = {
  last_seen: bugs.lastSeen,
  first_seen: bugs.firstSeen,
  occurrence_count: bugs.occurrenceCount,
};

/**
 * What the page's plans cost, in microseconds of read-thread CPU as measured on the bench's
 * 100k-bug store. Walking the sort index costs per entry walked: the entry alone, or its row
 * where a test needs the row (rows are read close to their neighbours, the table being mostly
 * in id order). Starting from the filters costs per match: its row is read from wherever it
 * lies and sorted with every column. The index's result for a `q` phrase costs once, whatever
 * it finds: 2–7 ms for phrases whose trigrams most bugs hold.
 */
const PLAN_COST = { walkedEntry: 0.1, walkedRow: 0.5, match: 5, searchResult: 3000 };

/**
 * What the list keeps between requests, per database connection that serves many of them
 * (Node's read threads; the Worker's D1 handle lives for one request and keeps nothing): each
 * filter combination's total, and for a `q` phrase within field filters the ids of the few
 * bugs it matches. Both hold while the list's mark holds: bug_list_version.version, which
 * triggers move inside any write that deletes a bug or changes a field a filter or `q` reads
 * (migration 0009), and, for `q`, the search index's mark (bugs the index has not taken yet are
 * matched by LIKE, which folds case for ASCII only). New bugs leave the mark alone: their ids are
 * above every kept one, so the bugs added since a total was counted are counted on top of it,
 * by id, a few rows. A report that only deduplicates (count, last seen) changes nothing kept,
 * so a total is counted and a phrase evaluated once per change instead of on every request.
 * The page itself is always read fresh: its order moves with every report.
 */
interface Kept {
  mark: string;
  /** The newest bug when `total` was counted: bugs above it are counted on top. */
  through: number;
  total: number;
  /** Every match's id, kept where there are at most KEPT_IDS. */
  ids?: number[];
}
const kept = new WeakMap<Db, LruMap<string, Kept>>();

/** Filter combinations kept per connection. */
export const KEPT_FILTERS = 256;
/** The most ids kept for one filter combination (8 bytes each). */
export const KEPT_IDS = 1_000;

/** Keeps the list's totals and matches on this connection between requests (see Kept). */
export function keepListTotals(db: Db): Db {
  if (!kept.has(db)) kept.set(db, new LruMap(KEPT_FILTERS));
  return db;
}

const filterKey = (f: BugFilters) =>
  JSON.stringify([f.project_id, f.status, f.source, f.level, f.environment, f.q]);

/** The list's marks (see Kept) and its newest bug, in one statement. */
const listState = (db: Db) =>
  db
    .select({
      version: sql<number>`(SELECT version FROM bug_list_version)`,
      indexed: sql<number>`(SELECT indexed_through FROM bug_search_state)`,
      newest: sql<number | null>`(SELECT max(id) FROM ${bugs})`,
    })
    .from(sql`(SELECT 1)`);

/**
 * How many bugs match: `q` alone is counted in the index (every row of bug_search is a bug);
 * otherwise a field filter's index drives and a `q` phrase is only probed by id.
 */
function countQuery(db: Db, filters: BugFilters) {
  const q = filters.q;
  if (q && searchOf(q) === 'phrase' && !hasFieldFilters(filters))
    return db
      .select({
        n: sql<number>`(SELECT count(*) FROM bug_search WHERE ${searchMatch(q)}) + (SELECT count(*) FROM ${bugs} WHERE ${bugs.id} > ${NOT_YET_INDEXED} AND ${likeEither(q)})`,
      })
      .from(sql`bug_search_state`);
  return db.select({ n: count() }).from(bugs).where(bugWhere(filters, 'count'));
}

async function countOf(db: Db, filters: BugFilters): Promise<number> {
  const [counted] = await countQuery(db, filters);
  return counted?.n ?? 0;
}

/**
 * One list request's view of what is kept: `known(filters)` answers what still holds, `total`
 * answers from it or counts (and keeps), `keep` keeps. Where nothing is kept, the first count
 * and the newest bug go in one batch (one round trip to D1); elsewhere the mark is read first,
 * and a total that still holds costs nothing more.
 */
async function listTotals(db: Db, query: BugFilters) {
  const entries = kept.get(db);
  if (!entries) {
    // What listBugs counts first: the field filters alone where it may take the one pass.
    const first: BugFilters = onePassMayServe(query) ? { ...query, q: undefined } : query;
    const [[counted], [state]] = (await db.batch([countQuery(db, first), listState(db)])) as [
      { n: number }[],
      { newest: number | null }[],
    ];
    const entry: Kept = { mark: '', through: state?.newest ?? 0, total: counted?.n ?? 0 };
    const known = async (f: BugFilters): Promise<Kept | undefined> =>
      filterKey(f) === filterKey(first) ? entry : undefined;
    return {
      newest: state?.newest ?? 0,
      known,
      total: async (f: BugFilters) => (await known(f))?.total ?? countOf(db, f),
      keep: (_f: BugFilters, _total: number, _ids?: number[]) => {},
    };
  }
  const [state] = await listState(db);
  const newest = state?.newest ?? 0;
  // How a `q` matches the newest bugs depends on the search index's mark; other filters do not.
  const markOf = (f: BugFilters) => (f.q ? `${state?.version}/${state?.indexed}` : `${state?.version}`);
  const keep = (f: BugFilters, total: number, ids?: number[]) =>
    entries.set(filterKey(f), {
      mark: markOf(f),
      through: newest,
      total,
      ids: ids && ids.length <= KEPT_IDS ? ids : undefined,
    });
  /** What is kept for `f` and still holds, with the bugs added since it was counted on top. */
  const known = async (f: BugFilters): Promise<Kept | undefined> => {
    const entry = entries.get(filterKey(f));
    if (!entry || entry.mark !== markOf(f)) return undefined;
    if (entry.through === newest) return entry;
    const added = await db.select({ id: bugs.id }).from(bugs).where(addedSince(f, entry.through));
    const ids = entry.ids && [...entry.ids, ...added.map((bug) => bug.id)];
    keep(f, entry.total + added.length, ids);
    return entries.get(filterKey(f));
  };
  return {
    newest,
    known,
    total: async (f: BugFilters) => {
      const entry = await known(f);
      if (entry) return entry.total;
      const total = await countOf(db, f);
      keep(f, total);
      return total;
    },
    keep,
  };
}

/**
 * The bugs above `through` that match. For a filter with `q`, the search index's mark (part of
 * its mark) has not moved since `through` was the newest bug, so none of them is indexed yet:
 * `q` is matched by LIKE, as the count matched them.
 */
function addedSince(filters: BugFilters, through: number) {
  const q = filters.q;
  return and(
    gt(bugs.id, through),
    bugWhere({ ...filters, q: undefined }),
    q ? (searchOf(q) === 'none' ? sql`0` : likeEither(q)) : undefined,
  );
}

/**
 * The total comes first and picks the plan for the page. Walking the sort order reads about
 * (offset + page size) × all / matching index entries; starting from the filters reads every
 * matching row and sorts them (PLAN_COST weighs the two). SQLite's planner cannot weigh the
 * LIMIT that way, and left alone it sorted 14k rows for `status=NEW` (140 ms) where walking
 * last_seen reads 350. Bugs are not deleted in use and their ids only grow, so max(id) stands
 * in for the number of bugs at no cost (the plan needs only its size). The total stays exact
 * for every filter; each count reads one index (or the search index), or is kept (Kept).
 */
export async function listBugs(db: Db, query: BugListQuery) {
  const offset = (query.page - 1) * query.page_size;
  const totals = await listTotals(db, query);
  if (onePassMayServe(query)) {
    const known = await totals.known(query);
    if (known?.ids) return (await listInOnePass(db, query, offset, known.ids)).page;
    if (!known && (await totals.total({ ...query, q: undefined })) <= ONE_PASS_SCOPE) {
      const { page, ids } = await listInOnePass(db, query, offset);
      totals.keep(query, page.total, ids);
      return page;
    }
  }
  const total = await totals.total(query);
  const newest = totals.newest;
  const phrase = Boolean(query.q && searchOf(query.q) === 'phrase');
  const page = { total, page: query.page, page_size: query.page_size };
  if (total <= offset) return { items: [], ...page };
  // Walking tests a bug's fields on its row, and project_id on its own index the entry. `q`
  // is tested on the walk either through the index's result (the id the entry holds) or by
  // LIKE on the row, where LIKE finds the same; the cheaper of the two is taken.
  const fieldRowTests =
    Boolean(query.status?.length || query.source || query.level || query.environment) ||
    Boolean(query.project_id && query.sort !== 'last_seen');
  const walked = ((offset + query.page_size) * Math.max(newest, total)) / total;
  const walkWithIndex =
    walked * (fieldRowTests || (query.q && !phrase) ? PLAN_COST.walkedRow : PLAN_COST.walkedEntry) +
    (phrase ? PLAN_COST.searchResult : 0);
  const walkWithLike =
    phrase && likeAgrees(query.q!) ? walked * PLAN_COST.walkedRow : Number.POSITIVE_INFINITY;
  const fromFilters = total * PLAN_COST.match + (phrase ? PLAN_COST.searchResult : 0);
  const walking = Math.min(walkWithIndex, walkWithLike);
  const plan: ListPlan = walking < fromFilters ? 'sorted' : 'filter';
  const direction = query.order === 'asc' ? asc : desc;
  const rows = await db
    .select()
    .from(bugs)
    .where(bugWhere(query, plan, query.sort, walkWithLike < walkWithIndex))
    .orderBy(direction(sortColumn[query.sort]), direction(bugs.id))
    .limit(query.page_size)
    .offset(offset);
  return { items: rows.map(toApiBug), ...page };
}

/**
 * A `q` phrase within field filters that hold at most this many bugs (a project, a status of
 * one): one pass finds the matches, which gives both the total and the page, where counting
 * and then paging evaluated the phrase twice (a phrase whose trigrams most bugs hold costs the
 * same however few bugs match).
 */
const ONE_PASS_SCOPE = 10_000;

const onePassMayServe = (query: BugFilters) =>
  Boolean(query.q && searchOf(query.q) === 'phrase' && hasFieldFilters(query));

/**
 * The one pass: every match's id and sort key, sorted here, then the page's rows. `ids`, when
 * kept from an earlier pass under the same mark, stand for the filters: the same bugs match.
 */
async function listInOnePass(db: Db, query: BugListQuery, offset: number, ids?: number[]) {
  const key = sortColumn[query.sort];
  const matches = await db
    .select({ id: bugs.id, key })
    .from(bugs)
    .where(
      ids
        ? sql`${bugs.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`
        : bugWhere(query, 'filter'),
    );
  const sign = query.order === 'asc' ? 1 : -1;
  matches.sort((a, b) => sign * (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id));
  const pageIds = matches.slice(offset, offset + query.page_size).map((m) => m.id);
  const rows = pageIds.length ? await db.select().from(bugs).where(inArray(bugs.id, pageIds)) : [];
  const byId = new Map(rows.map((row) => [row.id, row]));
  const page = {
    items: pageIds.flatMap((id) => (byId.has(id) ? [toApiBug(byId.get(id)!)] : [])),
    total: matches.length,
    page: query.page,
    page_size: query.page_size,
  };
  return { page, ids: matches.map((m) => m.id) };
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
