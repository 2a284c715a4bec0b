import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * What happened around a bug's pull request besides status changes: review actions taken in
 * Log Center (by a person or the auto-approval policy), reviewer requests, and the reviews and
 * comments Gitea reports by webhook. The kinds are listed in services/activity.ts.
 */
export const bugActivity = sqliteTable(
  'bug_activity',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    bugId: integer('bug_id').notNull(),
    kind: text('kind').notNull(),
    /** `person`, `policy`, `system`, or `gitea:<login>`. */
    actor: text('actor').notNull(),
    body: text('body'),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default({}),
    at: text('at').notNull(),
  },
  (t) => [index('bug_activity_bug').on(t.bugId, t.id)],
);

export type ActivityRow = typeof bugActivity.$inferSelect;
