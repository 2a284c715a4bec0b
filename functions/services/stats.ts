import { and, count, eq, gte, sql } from 'drizzle-orm';
import { bugs, statusHistory } from '../../schema';
import type { Db } from '../lib/db';
import { SOURCES, STATUSES } from '../lib/vocabulary';
import { bugWhere } from './bugs';

export interface StatsQuery {
  project_id?: string;
  source?: string;
  days: number;
}

const zeroStatuses = () => Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<string, number>;
const day = (iso: string) => iso.slice(0, 10);

/**
 * Totals count every bug matching project/source, so each equals the bug list's `total`
 * for the same filters; `days` bounds the trend, today's counts, the rates and time to fix.
 */
export async function dashboardStats(db: Db, query: StatsQuery, now = new Date()) {
  const filters = bugWhere({ project_id: query.project_id, source: query.source });
  const startOfToday = `${day(now.toISOString())}T00:00:00.000Z`;
  const since = new Date(Date.parse(startOfToday) - (query.days - 1) * 86_400_000).toISOString();
  const inScope = (column: typeof statusHistory.at | typeof bugs.firstSeen, from: string) =>
    and(filters, gte(column, from));

  const [byStatus, bySource, byProject, newPerDay, transitionsPerDay, fixTime] = await Promise.all([
    db.select({ status: bugs.status, n: count() }).from(bugs).where(filters).groupBy(bugs.status),
    db
      .select({ source: bugs.source, n: count() })
      .from(bugs)
      .where(bugWhere({ project_id: query.project_id }))
      .groupBy(bugs.source),
    db
      .select({ projectId: bugs.projectId, status: bugs.status, n: count() })
      .from(bugs)
      .where(filters)
      .groupBy(bugs.projectId, bugs.status),
    db
      .select({ date: sql<string>`substr(${bugs.firstSeen}, 1, 10)`, n: count() })
      .from(bugs)
      .where(inScope(bugs.firstSeen, since))
      .groupBy(sql`substr(${bugs.firstSeen}, 1, 10)`),
    db
      .select({
        date: sql<string>`substr(${statusHistory.at}, 1, 10)`,
        to: statusHistory.toStatus,
        n: count(),
      })
      .from(statusHistory)
      .innerJoin(bugs, eq(bugs.id, statusHistory.bugId))
      .where(and(inScope(statusHistory.at, since), sql`${statusHistory.fromStatus} IS NOT NULL`))
      .groupBy(sql`substr(${statusHistory.at}, 1, 10)`, statusHistory.toStatus),
    db
      .select({
        seconds: sql<
          number | null
        >`avg((julianday(${bugs.mergedAt}) - julianday(${bugs.firstSeen})) * 86400.0)`,
        n: count(),
      })
      .from(bugs)
      .where(and(filters, gte(bugs.mergedAt, since))),
  ]);

  const totals = zeroStatuses();
  for (const row of byStatus) totals[row.status] = row.n;
  const source_distribution = Object.fromEntries(SOURCES.map((s) => [s, 0])) as Record<string, number>;
  for (const row of bySource) source_distribution[row.source] = row.n;

  const projectTable = new Map<
    string,
    { project_id: string; total: number; by_status: Record<string, number> }
  >();
  for (const row of byProject) {
    const entry = projectTable.get(row.projectId) ?? {
      project_id: row.projectId,
      total: 0,
      by_status: zeroStatuses(),
    };
    entry.by_status[row.status] = row.n;
    entry.total += row.n;
    projectTable.set(row.projectId, entry);
  }

  const trend = Array.from({ length: query.days }, (_, i) => ({
    date: day(new Date(Date.parse(since) + i * 86_400_000).toISOString()),
    new: 0,
    fixed: 0,
    failed: 0,
  }));
  const byDate = new Map(trend.map((d) => [d.date, d]));
  for (const row of newPerDay) {
    const entry = byDate.get(row.date);
    if (entry) entry.new = row.n;
  }
  const todayStatuses = zeroStatuses();
  let fixed = 0;
  let failed = 0;
  for (const row of transitionsPerDay) {
    const entry = byDate.get(row.date);
    // "auto-fixed" = a fix reached review (the agent opened a PR)
    if (entry && row.to === 'PENDING_REVIEW') entry.fixed += row.n;
    if (entry && row.to === 'FAILED') entry.failed += row.n;
    if (row.to === 'PENDING_REVIEW') fixed += row.n;
    if (row.to === 'FAILED') failed += row.n;
    if (row.date === day(startOfToday)) todayStatuses[row.to] = (todayStatuses[row.to] ?? 0) + row.n;
  }
  const today = trend[trend.length - 1];
  todayStatuses.NEW = today?.new ?? 0;
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
