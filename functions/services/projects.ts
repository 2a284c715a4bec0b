import { asc, count, eq, inArray, sql } from 'drizzle-orm';
import { type AlertSettings, bugs, type ProjectRow, projects, type ReviewSettings } from '../../schema';
import type { Db } from '../lib/db';
import { AppError } from '../lib/errors';
import { nowIso } from '../lib/time';
import { reviewSettingsOf } from './review-policy';
import { INGEST_KEY_PATTERN, sentryDsn } from './sentry/auth';

export type StatusCounts = Record<string, number>;

/**
 * `baseUrl`: where SDKs reach this server (PUBLIC_URL, else the request's origin), for the
 * project's Sentry DSN.
 */
export function toApiProject(row: ProjectRow, baseUrl: string, counts: StatusCounts = {}) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const dsn = sentryDsn(baseUrl, row.sentryId, row.ingestKey);
  return {
    id: row.id,
    project_id: row.id,
    name: row.name ?? row.id,
    repo_url: row.repoUrl,
    local_path: row.localPath,
    description: row.description,
    ingest_key: row.ingestKey,
    rate_limit_per_minute: row.rateLimitPerMinute,
    test_command: row.testCommand,
    alert_settings: row.alertSettings ?? {},
    review_settings: reviewSettingsOf(row.reviewSettings),
    sentry_id: row.sentryId,
    sentry_dsn: dsn,
    // A key stored before keys had to fit a DSN still guards the report API; SDKs need a new one.
    sentry_dsn_hint:
      !dsn && row.ingestKey && !INGEST_KEY_PATTERN.test(row.ingestKey)
        ? 'Rotate the ingest key to 8-200 letters, digits or underscores to get a Sentry DSN'
        : null,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    bug_counts: { total, by_status: counts },
  };
}

/** The answer to a new project id past MAX_PROJECTS, from a report or a PUT. */
export const projectLimit = (projectId: string, max: number) =>
  new AppError(
    'project_limit',
    `Project ${projectId} does not exist and was not created: this server already holds its limit of ${max} projects (MAX_PROJECTS)`,
    { max_projects: max },
  );

async function countsByProject(db: Db, projectIds: string[]) {
  const rows = await db
    .select({ projectId: bugs.projectId, status: bugs.status, n: count() })
    .from(bugs)
    .where(inArray(bugs.projectId, projectIds))
    .groupBy(bugs.projectId, bugs.status);
  const byProject = new Map<string, StatusCounts>();
  for (const row of rows) {
    const counts = byProject.get(row.projectId) ?? {};
    counts[row.status] = row.n;
    byProject.set(row.projectId, counts);
  }
  return byProject;
}

export interface PageQuery {
  page: number;
  page_size: number;
}

/** One page of projects by id, with the bug counts of that page's projects only. */
export async function listProjects(db: Db, baseUrl: string, query: PageQuery) {
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(projects)
      .orderBy(asc(projects.id))
      .limit(query.page_size)
      .offset((query.page - 1) * query.page_size),
    db.select({ n: count() }).from(projects),
  ]);
  const counts = rows.length
    ? await countsByProject(
        db,
        rows.map((row) => row.id),
      )
    : new Map();
  return {
    items: rows.map((row) => toApiProject(row, baseUrl, counts.get(row.id))),
    total: total?.n ?? 0,
    page: query.page,
    page_size: query.page_size,
  };
}

export async function getProjectRow(db: Db, id: string): Promise<ProjectRow | undefined> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id));
  return row;
}

export async function getProject(db: Db, id: string, baseUrl: string) {
  const row = await getProjectRow(db, id);
  if (!row) return undefined;
  const counts = await countsByProject(db, [id]);
  return toApiProject(row, baseUrl, counts.get(id));
}

export interface ProjectUpdate {
  name?: string | null;
  repo_url?: string | null;
  local_path?: string | null;
  description?: string | null;
  ingest_key?: string | null;
  rate_limit_per_minute?: number | null;
  test_command?: string | null;
  alert_settings?: AlertSettings | null;
  /** Merged into what is stored (JSON merge patch); null resets it to the defaults. */
  review_settings?: ReviewSettings | null;
}

/**
 * PUT creates the project when it does not exist yet, so registration works without a first
 * report; like a report, only while fewer than `maxProjects` exist (counted in the insert).
 */
export async function upsertProject(
  db: Db,
  id: string,
  update: ProjectUpdate,
  baseUrl: string,
  maxProjects?: number,
) {
  const now = nowIso();
  const values = {
    ...(update.name !== undefined && { name: update.name }),
    ...(update.repo_url !== undefined && { repoUrl: update.repo_url }),
    ...(update.local_path !== undefined && { localPath: update.local_path }),
    ...(update.description !== undefined && { description: update.description }),
    ...(update.ingest_key !== undefined && { ingestKey: update.ingest_key }),
    ...(update.rate_limit_per_minute !== undefined && { rateLimitPerMinute: update.rate_limit_per_minute }),
    ...(update.test_command !== undefined && { testCommand: update.test_command }),
    ...(update.alert_settings !== undefined && { alertSettings: update.alert_settings }),
  };
  // A partial review_settings changes only the keys it names: merged in SQL, so two editors
  // changing different keys do not undo each other.
  const reviewPatch = update.review_settings;
  const inserted = reviewPatch === undefined ? values : { ...values, reviewSettings: reviewPatch };
  const updated =
    reviewPatch === undefined
      ? values
      : {
          ...values,
          reviewSettings:
            reviewPatch === null
              ? null
              : (sql`json_patch(coalesce(${projects.reviewSettings}, '{}'), ${JSON.stringify(reviewPatch)})` as unknown as ReviewSettings),
        };
  if (maxProjects === undefined) {
    await db
      .insert(projects)
      .values({ id, ...inserted, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: projects.id, set: { ...updated, updatedAt: now } });
  } else {
    await db.run(sql`INSERT INTO projects (id, created_at, updated_at)
      SELECT ${id}, ${now}, ${now} FROM (SELECT count(*) AS n FROM projects) AS c WHERE c.n < ${maxProjects}
      ON CONFLICT (id) DO NOTHING`);
    const changed = await db
      .update(projects)
      .set({ ...updated, updatedAt: now })
      .where(eq(projects.id, id))
      .returning({ id: projects.id });
    if (changed.length === 0) throw projectLimit(id, maxProjects);
  }
  return getProject(db, id, baseUrl);
}
