import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const ALERT_KINDS = [
  'new_bug',
  'regression',
  'failed',
  'pr_opened',
  'merged',
  'reminder',
  'recurring',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * Where an alert goes: a Slack incoming webhook, a generic JSON webhook, email over SMTP
 * (Node server only), and DingTalk and WeCom group robots.
 */
export const ALERT_TARGETS = ['slack', 'webhook', 'email', 'dingtalk', 'wecom'] as const;
export type AlertTarget = (typeof ALERT_TARGETS)[number];

/** Request bodies per target, rendered once so a retry sends exactly what the first attempt did. */
export type AlertPayload = Partial<Record<AlertTarget, Record<string, unknown>>>;

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
    /**
     * pending → sending (claimed by one flush) → sent; back to pending to retry or to wait
     * out a throttle window; suppressed (switched off, stale, merged into another message);
     * dead after the last retry.
     */
    state: text('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When a pending row is due; while sending, when the claim lapses and another flush may take it. */
    nextAttemptAt: text('next_attempt_at').notNull(),
    lastError: text('last_error'),
    createdAt: text('created_at').notNull(),
    sentAt: text('sent_at'),
    /** The flush that holds the row while it is sending; every later write checks it. */
    claimToken: text('claim_token'),
    payload: text('payload', { mode: 'json' }).$type<AlertPayload>(),
    /** Targets that already took this message, so a retry does not post it to them twice. */
    delivered: text('delivered', { mode: 'json' }).$type<AlertTarget[]>(),
    /** Why the row was held or suppressed, for whoever wonders where an alert went. */
    note: text('note'),
  },
  (t) => [
    index('alert_outbox_due').on(t.state, t.nextAttemptAt),
    index('alert_outbox_bug').on(t.bugId, t.id),
  ],
);

export type AlertRow = typeof alertOutbox.$inferSelect;

/**
 * The per-bug throttle: the last alert that went out for a bug and the occurrence count at
 * that moment, so the next one can say "+N since last alert". The row is claimed with a
 * conditional upsert before sending, which makes "one alert per bug per window" hold
 * across concurrent flushes.
 */
export const alertThrottle = sqliteTable('alert_throttle', {
  bugId: integer('bug_id').primaryKey(),
  lastAlertAt: text('last_alert_at').notNull(),
  occurrencesAtAlert: integer('occurrences_at_alert').notNull(),
  /** The outbox row that holds the current window (its retries may still be going out). */
  alertId: integer('alert_id').notNull(),
  /** "Still occurring" alerts in a row; each one doubles the wait before the next. */
  recurringStreak: integer('recurring_streak').notNull().default(0),
});

export type AlertThrottleRow = typeof alertThrottle.$inferSelect;

/** The last new-bug message per project: a burst of new bugs becomes one digest a minute. */
export const alertDigest = sqliteTable('alert_digest', {
  projectId: text('project_id').primaryKey(),
  lastSentAt: text('last_sent_at').notNull(),
  alertId: integer('alert_id').notNull(),
});

/**
 * The message centre: one row per alert outbox row, written by the trigger
 * `alert_outbox_notify` (migration 0007) in the same statement that queues the alert, so every
 * writer of the outbox (ingestion, status changes, the sweep) gets one without naming it.
 * Title and body are a snapshot of the bug when the alert was queued.
 */
export const notifications = sqliteTable(
  'notifications',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind').$type<AlertKind>().notNull(),
    bugId: integer('bug_id').notNull(),
    projectId: text('project_id').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    createdAt: text('created_at').notNull(),
    readAt: text('read_at'),
  },
  (t) => [index('notifications_read').on(t.readAt, t.id), index('notifications_created').on(t.createdAt)],
);

export type NotificationRow = typeof notifications.$inferSelect;
