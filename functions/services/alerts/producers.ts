/**
 * Alerts the sweep queues: these have no request that causes them. Also the purge of the
 * outbox's delivery log, which the sweep runs with them.
 */
import { and, eq, inArray, isNotNull, lte, notInArray, sql } from 'drizzle-orm';
import { alertOutbox, alertThrottle, bugs, notifications } from '../../../schema';
import { type Db, deleteInChunks } from '../../lib/db';
import { outboxRowOf } from './outbox';
import { RECURRING_STATUSES } from './policy';

const MAX_RECURRING_DOUBLINGS = 5;

/**
 * "Still occurring": a bug nobody has fixed yet that kept happening after its last alert
 * gets one more once the window has passed, so the occurrences held back by the throttle
 * are summarised. Each one in a row doubles the wait (up to 32 windows): a bug that never
 * stops does not page the channel every hour forever.
 */
export function queueRecurring(db: Db, now: Date, throttleMinutes: number) {
  const windowMs = throttleMinutes * 60_000;
  const cutoffs = Array.from({ length: MAX_RECURRING_DOUBLINGS + 1 }, (_, n) =>
    new Date(now.getTime() - windowMs * 2 ** n).toISOString(),
  );
  const cutoff = sql.join(
    [
      sql`CASE min(${alertThrottle.recurringStreak}, ${MAX_RECURRING_DOUBLINGS})`,
      ...cutoffs.map((c, n) => sql`WHEN ${n} THEN ${c}`),
      sql`END`,
    ],
    sql` `,
  );
  const at = now.toISOString();
  return db
    .insert(alertOutbox)
    .select(
      db
        .select(outboxRowOf('recurring', at))
        .from(alertThrottle)
        .innerJoin(bugs, eq(bugs.id, alertThrottle.bugId))
        .where(
          and(
            inArray(bugs.status, [...RECURRING_STATUSES]),
            sql`${bugs.occurrenceCount} > ${alertThrottle.occurrencesAtAlert}`,
            sql`${alertThrottle.lastAlertAt} <= ${cutoff}`,
            sql`NOT EXISTS (SELECT 1 FROM ${alertOutbox} o WHERE o.bug_id = ${bugs.id} AND o.state IN ('pending', 'sending'))`,
          ),
        ),
    )
    .returning({ id: alertOutbox.id });
}

/** One reminder per stay in PENDING_REVIEW: a later stay (after a reopen) gets its own. */
export function queueReviewReminders(db: Db, now: Date, reminderHours: number) {
  const at = now.toISOString();
  const cutoff = new Date(now.getTime() - reminderHours * 3_600_000).toISOString();
  return db
    .insert(alertOutbox)
    .select(
      db
        .select(outboxRowOf('reminder', at))
        .from(bugs)
        .where(
          and(
            eq(bugs.status, 'PENDING_REVIEW'),
            lte(bugs.statusChangedAt, cutoff),
            sql`NOT EXISTS (SELECT 1 FROM ${alertOutbox} o WHERE o.bug_id = ${bugs.id} AND o.kind = 'reminder' AND o.created_at >= ${bugs.statusChangedAt})`,
          ),
        ),
    )
    .returning({ id: alertOutbox.id });
}

/**
 * Settled rows are kept as a delivery log for the retention period. Reminder rows stay:
 * they are what makes a reminder once per review, however long the review takes.
 */
export function purgeSettledAlerts(db: Db, cutoff: string): Promise<number> {
  return deleteInChunks(
    db,
    alertOutbox,
    and(
      inArray(alertOutbox.state, ['sent', 'suppressed', 'dead']),
      lte(alertOutbox.createdAt, cutoff),
      notInArray(alertOutbox.kind, ['reminder']),
    )!,
  );
}

/** Read notifications go with the settled alerts, after the retention period; unread ones stay. */
export function purgeReadNotifications(db: Db, cutoff: string): Promise<number> {
  return deleteInChunks(
    db,
    notifications,
    and(isNotNull(notifications.readAt), lte(notifications.createdAt, cutoff))!,
  );
}
