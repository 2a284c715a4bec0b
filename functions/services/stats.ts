import { and, count, eq, gte, sql } from 'drizzle-orm';
import { bugs } from '../../schema';
import type { Db } from '../lib/db';
import { SOURCES, STATUSES } from '../lib/vocabulary';

export interface StatsQuery {
  project_id?: string;
  source?: string;
  days: number;
}

const zeroStatuses = () => Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<string, number>;
const day = (iso: string) => iso.slice(0, 10);

/** The transitions the trend counts: a fix reaching review (the agent opened a PR) and a failure. */
const FIXED = 'PENDING_REVIEW';
const FAILED = 'FAILED';

/**
 * Totals count every bug matching project/source, so each equals the bug list's `total`
 * for the same filters; `days` bounds the trend, today's counts, the rates and time to fix.
 *
 * Every query reads indexes only, no bug rows, except for a project or source filter on the
 * history (docs/performance.md, reads). The counts per status, project and source are one pass
 * over bugs_status. The trend counts each day as a range of an index: SQLite builds the days
 * from `since` (D1 binds at most 100 values, so not one value per day), and a GROUP BY on the
 * day would sort every row of the window first (90 ms for 30 days of 100k bugs, against 6).
 * Terms written `+column` keep SQLite from switching to an index that would make it look up
 * every bug.
 */
export async function dashboardStats(db: Db, query: StatsQuery, now = new Date()) {
  const startOfToday = `${day(now.toISOString())}T00:00:00.000Z`;
  const since = new Date(Date.parse(startOfToday) - (query.days - 1) * 86_400_000).toISOString();
  const scope = (bug: string) =>
    sql.join(
      [
        query.project_id ? sql` AND +${sql.raw(bug)}.project_id = ${query.project_id}` : sql``,
        query.source ? sql` AND +${sql.raw(bug)}.source = ${query.source}` : sql``,
      ],
      sql``,
    );
  const scoped = Boolean(query.project_id || query.source);
  // Unfiltered, the history alone answers (bugs are never deleted); filtered, each transition
  // in range looks up its bug.
  const history = scoped ? sql`status_history h JOIN bugs b ON b.id = h.bug_id` : sql`status_history h`;
  const transitions = (to: string) =>
    sql`(SELECT count(*) FROM ${history} WHERE h.at >= d.start AND h.at < d.next
      AND h.from_status IS NOT NULL AND h.to_status = ${to}${scoped ? scope('b') : sql``})`;

  // Not one db.batch: D1's batch does not take raw statements (db.values).
  const [counts, trendRows, todayRows, fixTime] = (await Promise.all([
    db
      .select({ status: bugs.status, projectId: bugs.projectId, source: bugs.source, n: count() })
      .from(bugs)
      .where(query.project_id ? eq(bugs.projectId, query.project_id) : undefined)
      .groupBy(bugs.status, bugs.projectId, bugs.source),
    db.values<[string, number, number, number]>(sql`
      WITH RECURSIVE d(n, start, next) AS (
        SELECT 0, ${since}, strftime('%Y-%m-%dT%H:%M:%fZ', ${since}, '+1 day')
        UNION ALL
        SELECT n + 1, next, strftime('%Y-%m-%dT%H:%M:%fZ', next, '+1 day') FROM d WHERE n + 1 < ${query.days}
      )
      SELECT substr(d.start, 1, 10),
        (SELECT count(*) FROM bugs WHERE bugs.first_seen >= d.start AND bugs.first_seen < d.next${scope('bugs')}),
        ${transitions(FIXED)},
        ${transitions(FAILED)}
      FROM d ORDER BY d.n`),
    db.values<[string, number]>(sql`
      SELECT h.to_status, count(*) FROM ${history}
      WHERE h.at >= ${startOfToday} AND h.from_status IS NOT NULL${scoped ? scope('b') : sql``}
      GROUP BY h.to_status`),
    db
      .select({
        seconds: sql<
          number | null
        >`avg((julianday(${bugs.mergedAt}) - julianday(${bugs.firstSeen})) * 86400.0)`,
        n: count(),
      })
      .from(bugs)
      .where(
        and(
          gte(bugs.mergedAt, since),
          query.project_id ? sql`+${bugs.projectId} = ${query.project_id}` : undefined,
          query.source ? sql`+${bugs.source} = ${query.source}` : undefined,
        ),
      ),
  ])) as [
    { status: string; projectId: string; source: string; n: number }[],
    ArrayLike<unknown>[],
    ArrayLike<unknown>[],
    { seconds: number | null; n: number }[],
  ];

  const totals = zeroStatuses();
  const source_distribution = Object.fromEntries(SOURCES.map((s) => [s, 0])) as Record<string, number>;
  const projectTable = new Map<
    string,
    { project_id: string; total: number; by_status: Record<string, number> }
  >();
  for (const row of counts) {
    // The source distribution is filtered by project only: it shows every source in scope.
    source_distribution[row.source] = (source_distribution[row.source] ?? 0) + row.n;
    if (query.source && row.source !== query.source) continue;
    totals[row.status] = (totals[row.status] ?? 0) + row.n;
    const entry = projectTable.get(row.projectId) ?? {
      project_id: row.projectId,
      total: 0,
      by_status: zeroStatuses(),
    };
    entry.by_status[row.status] = (entry.by_status[row.status] ?? 0) + row.n;
    entry.total += row.n;
    projectTable.set(row.projectId, entry);
  }

  // Rows as arrays, read by index: libSQL answers array-like rows that are not iterable.
  const trend = trendRows.map((row) => ({
    date: String(row[0]),
    new: Number(row[1]),
    fixed: Number(row[2]),
    failed: Number(row[3]),
  }));
  const todayStatuses = zeroStatuses();
  for (const row of todayRows) todayStatuses[String(row[0])] = Number(row[1]);
  const today = trend[trend.length - 1];
  todayStatuses.NEW = today?.new ?? 0;
  const fixed = trend.reduce((n, d) => n + d.fixed, 0);
  const failed = trend.reduce((n, d) => n + d.failed, 0);
  const total = Object.values(totals).reduce((a, b) => a + b, 0);

  return {
    days: query.days,
    since,
    totals: { total, by_status: totals },
    today: { new: today?.new ?? 0, by_status: todayStatuses },
    source_distribution,
    projects: [...projectTable.values()].sort((a, b) => b.total - a.total),
    trend,
    window: {
      new: trend.reduce((n, d) => n + d.new, 0),
      fixed,
      failed,
    },
    fix_success_rate: fixed + failed > 0 ? fixed / (fixed + failed) : null,
    mean_time_to_fix_seconds: fixTime[0]?.seconds == null ? null : Math.round(fixTime[0].seconds),
  };
}
