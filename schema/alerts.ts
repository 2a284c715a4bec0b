import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const ALERT_KINDS = ['new_bug', 'regression', 'failed', 'pr_opened', 'reminder', 'recurring'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * Alerts are written here in the same batch as the change that causes them and delivered
 * after the response, so a dead receiver can delay an alert but never a report.
 */
export const alertOutbox = sqliteTable(
  'alert_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    bugId: integer('bug_id').notNull(),
    projectId: text('project_id').notNull(),
    kind: text('kind').$type<AlertKind>().notNull(),
    /** pending → sent, or suppressed (throttled / merged into a digest), or dead after the last retry */
    state: text('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: text('next_attempt_at').notNull(),
    lastError: text('last_error'),
    createdAt: text('created_at').notNull(),
    sentAt: text('sent_at'),
  },
  (t) => [
    index('alert_outbox_due').on(t.state, t.nextAttemptAt),
    index('alert_outbox_bug').on(t.bugId, t.id),
  ],
);

export type AlertRow = typeof alertOutbox.$inferSelect;
