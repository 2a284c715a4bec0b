import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Per-project alert overrides; absent keys fall back to the server-wide settings. */
export interface AlertSettings {
  slack_webhook_url?: string | null;
  alert_webhook_url?: string | null;
  /** Email recipients for this project; empty or absent: ALERT_EMAIL_TO. */
  email_recipients?: string[] | null;
  dingtalk_webhook_url?: string | null;
  /** Signs the DingTalk URL (the robot's "加签" secret); absent: DINGTALK_SECRET. */
  dingtalk_secret?: string | null;
  wecom_webhook_url?: string | null;
  events?: Partial<Record<'new_bug' | 'regression' | 'failed' | 'pr_opened' | 'merged', boolean>>;
  min_level?: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
}

/** How a project's pull requests are reviewed (services/review.ts); absent keys take the defaults there. */
export interface ReviewSettings {
  reviewers?: string[];
  merge_style?: 'merge' | 'squash' | 'rebase';
  auto_approve?: {
    enabled?: boolean;
    max_changed_lines?: number;
    allowed_paths?: string[];
    merge?: boolean;
  };
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
  reviewSettings: text('review_settings', { mode: 'json' }).$type<ReviewSettings>(),
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
