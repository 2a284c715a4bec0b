import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Per-project alert overrides; absent keys fall back to the server-wide settings. */
export interface AlertSettings {
  slack_webhook_url?: string | null;
  alert_webhook_url?: string | null;
  events?: Partial<Record<'new_bug' | 'regression' | 'failed' | 'pr_opened', boolean>>;
  min_level?: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
}

export const projects = sqliteTable('projects', {
  id: text('id').primaryKey(),
  name: text('name'),
  repoUrl: text('repo_url'),
  localPath: text('local_path'),
  description: text('description'),
  /** When set, ingestion for this project requires `X-Log-Center-Key` or `?key=`. */
  ingestKey: text('ingest_key'),
  /** Reports per minute; null uses the server default, 0 means unlimited. */
  rateLimitPerMinute: integer('rate_limit_per_minute'),
  testCommand: text('test_command'),
  alertSettings: text('alert_settings', { mode: 'json' }).$type<AlertSettings>(),
  /**
   * The integer Sentry SDKs need in a DSN (`.../{sentry_id}`): they refuse a non-numeric
   * project. Assigned by the database (trigger `projects_sentry_id_assign`, migration 0004) so
   * every insert site gets one without naming it; never changed once set.
   */
  sentryId: integer('sentry_id').unique(),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

export type ProjectRow = typeof projects.$inferSelect;
