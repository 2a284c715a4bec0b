/**
 * The message centre: what the alert outbox queued, as people read it in the dashboard. Rows
 * are written by the database itself, in the statement that queues an alert (migration 0007),
 * so this module only reads them and marks them read.
 */
import { and, count, desc, isNull, type SQL, sql } from 'drizzle-orm';
import { type AlertKind, type NotificationRow, notifications } from '../../schema';
import type { Db } from '../lib/db';
import { validationFailed } from '../lib/errors';

export interface NotificationJson {
  id: number;
  kind: AlertKind;
  bug_id: number;
  project_id: string;
  title: string;
  body: string;
  created_at: string;
  read_at: string | null;
}

const toJson = (row: NotificationRow): NotificationJson => ({
  id: row.id,
  kind: row.kind,
  bug_id: row.bugId,
  project_id: row.projectId,
  title: row.title,
  body: row.body,
  created_at: row.createdAt,
  read_at: row.readAt,
});

export async function unreadCount(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(notifications).where(isNull(notifications.readAt));
  return row?.n ?? 0;
}

/** Newest first; `unread` keeps only the ones nobody has marked read. */
export async function listNotifications(db: Db, query: { unread: boolean; page: number; per_page: number }) {
  const where = query.unread ? isNull(notifications.readAt) : undefined;
  const [rows, [total], unread] = await Promise.all([
    db
      .select()
      .from(notifications)
      .where(where)
      .orderBy(desc(notifications.id))
      .limit(query.per_page)
      .offset((query.page - 1) * query.per_page),
    db.select({ n: count() }).from(notifications).where(where),
    unreadCount(db),
  ]);
  return {
    items: rows.map(toJson),
    unread_count: unread,
    pagination: { page: query.page, per_page: query.per_page, total: total?.n ?? 0 },
  };
}

/**
 * Marks the given notifications read, or all of them. Every id must exist: an unknown one is a
 * 422 naming it, and nothing is marked. Marking a read one again changes nothing; `updated`
 * counts only the ones that were unread.
 */
export async function markRead(
  db: Db,
  what: { ids: number[] } | { all: true },
  now = new Date(),
): Promise<{ updated: number; unread_count: number }> {
  const at = now.toISOString();
  let target: SQL = isNull(notifications.readAt);
  if ('ids' in what) {
    // One bound parameter for the whole list: D1 binds at most 100 a statement.
    const listed = sql`${notifications.id} IN (SELECT value FROM json_each(${JSON.stringify(what.ids)}))`;
    const found = await db.select({ id: notifications.id }).from(notifications).where(listed);
    const known = new Set(found.map((r) => r.id));
    const unknown = what.ids.flatMap((id, i) => (known.has(id) ? [] : [i]));
    if (unknown.length)
      throw validationFailed(
        unknown.map((i) => ({ path: `ids.${i}`, message: `no notification with id ${what.ids[i]}` })),
      );
    target = and(target, listed)!;
  }
  const updated = await db
    .update(notifications)
    .set({ readAt: at })
    .where(target)
    .returning({ id: notifications.id });
  return { updated: updated.length, unread_count: await unreadCount(db) };
}
