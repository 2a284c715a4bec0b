import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const bugs = sqliteTable(
  'bugs',
  {
    // No AUTOINCREMENT: an upsert that turns into an update would burn an id each time,
    // leaving gaps in the bug numbers people read. Bugs are never deleted, so ids stay unique.
    id: integer('id').primaryKey(),
    projectId: text('project_id').notNull(),
    fingerprint: text('fingerprint').notNull().unique(),
    source: text('source').notNull(),
    level: text('level').notNull(),
    environment: text('environment').notNull(),
    status: text('status').notNull(),
    errorType: text('error_type').notNull(),
    errorMessage: text('error_message').notNull(),
    filePath: text('file_path'),
    lineNumber: integer('line_number'),
    stackTrace: text('stack_trace', { mode: 'json' }).$type<string[]>().notNull(),
    context: text('context', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    version: text('version'),
    commitHash: text('commit_hash'),
    occurrenceCount: integer('occurrence_count').notNull().default(1),
    regressionCount: integer('regression_count').notNull().default(0),
    firstSeen: text('first_seen').notNull(),
    lastSeen: text('last_seen').notNull(),
    /** Status the last report reopened the bug from; null when the last report did not reopen it. */
    reopenedFrom: text('reopened_from'),
    prNumber: integer('pr_number'),
    prUrl: text('pr_url'),
    branchName: text('branch_name'),
    mergeCommitSha: text('merge_commit_sha'),
    mergedAt: text('merged_at'),
    deployedAt: text('deployed_at'),
    claimedBy: text('claimed_by'),
    leaseExpiresAt: text('lease_expires_at'),
    leaseExpiryCount: integer('lease_expiry_count').notNull().default(0),
    statusChangedAt: text('status_changed_at').notNull(),
  },
  // Every report moves last_seen and occurrence_count (and names status in its SET list), so
  // each index holding them costs a B-tree update per report: only the project list, the
  // global sorts and bugs_status get one. bugs_status serves status filters, the lease sweep
  // and the dashboard's counts per status, project and source from the index alone; source
  // and level/environment filters are lookups that do not change on ingest. The search index
  // for `q` (bug_search, migration 0005) is a virtual table drizzle does not model.
  (t) => [
    index('bugs_project_last_seen').on(t.projectId, t.lastSeen),
    index('bugs_last_seen').on(t.lastSeen),
    index('bugs_first_seen').on(t.firstSeen, t.projectId, t.source),
    index('bugs_occurrence_count').on(t.occurrenceCount),
    index('bugs_source').on(t.source),
    index('bugs_level_environment').on(t.level, t.environment),
    index('bugs_environment').on(t.environment),
    index('bugs_pr_number').on(t.prNumber),
    index('bugs_status').on(t.status, t.projectId, t.source, t.leaseExpiresAt),
    index('bugs_merged_at')
      .on(t.mergedAt, t.firstSeen, t.projectId, t.source)
      .where(sql`${t.mergedAt} IS NOT NULL`),
  ],
);

export const occurrences = sqliteTable(
  'occurrences',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    bugId: integer('bug_id').notNull(),
    receivedAt: text('received_at').notNull(),
    occurredAt: text('occurred_at').notNull(),
    environment: text('environment').notNull(),
    level: text('level').notNull(),
    version: text('version'),
    commitHash: text('commit_hash'),
    message: text('message').notNull(),
    stackTrace: text('stack_trace', { mode: 'json' }).$type<string[]>().notNull(),
    context: text('context', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('occurrences_bug').on(t.bugId, t.id), index('occurrences_received').on(t.receivedAt)],
);

export const statusHistory = sqliteTable(
  'status_history',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    bugId: integer('bug_id').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    actor: text('actor').notNull(),
    note: text('note'),
    at: text('at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  },
  (t) => [
    index('status_history_bug').on(t.bugId, t.id),
    index('status_history_to_at').on(t.toStatus, t.at),
    index('status_history_transitions').on(t.at, t.toStatus, t.bugId).where(sql`${t.fromStatus} IS NOT NULL`),
  ],
);

export const repairReports = sqliteTable(
  'repair_reports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    bugId: integer('bug_id').notNull(),
    agentId: text('agent_id'),
    analysis: text('analysis'),
    modifiedFiles: text('modified_files', { mode: 'json' }).$type<string[]>().notNull(),
    diff: text('diff'),
    testPassed: integer('test_passed', { mode: 'boolean' }),
    testOutput: text('test_output'),
    branchName: text('branch_name'),
    prNumber: integer('pr_number'),
    prUrl: text('pr_url'),
    durationMs: integer('duration_ms'),
    tokensIn: integer('tokens_in'),
    tokensOut: integer('tokens_out'),
    model: text('model'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('repair_reports_bug').on(t.bugId, t.id)],
);

export type BugRow = typeof bugs.$inferSelect;
export type OccurrenceRow = typeof occurrences.$inferSelect;
export type HistoryRow = typeof statusHistory.$inferSelect;
export type RepairReportRow = typeof repairReports.$inferSelect;
