import { and, eq, inArray, not, type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { type AlertKind, alertOutbox, type BugRow, bugs, statusHistory } from '../../schema';
import { batch, type Db } from '../lib/db';
import { AppError, notFound } from '../lib/errors';
import { canTransition, type Status, TRANSITIONS } from '../lib/vocabulary';
import { outboxRowOf } from './alerts';
import { getBugRow } from './bugs';

/**
 * Every change of status goes through this module: a person or the agent (`moveBug`), and
 * the set-based moves of the agent claim, the sweep and the deploy webhook (`moveBugs`).
 * Each checks the transition table in lib/vocabulary.ts, writes its history row (and the
 * alert a person wants to hear about) in the same batch as the update, and sets the fields
 * that follow from the new status. The ingest path reopens bugs in its own upsert for
 * speed; it checks its moves against the same table (services/ingest.ts).
 */

/** Statuses a person wants to hear about; the alert is queued with the change itself. */
const ALERT_ON_ENTRY: Partial<Record<Status, AlertKind>> = {
  FAILED: 'failed',
  PENDING_REVIEW: 'pr_opened',
  MERGED: 'merged',
};

/** Whether entering this status queues an alert, which the caller then flushes after its answer. */
export const queuesAlert = (status: string) => status in ALERT_ON_ENTRY;

/** Throws unless the table allows every move from `from` to `to`. */
export function assertAllowed(from: readonly Status[], to: readonly Status[]): void {
  for (const source of from) {
    for (const target of to) {
      if (!canTransition(source, target)) throw invalidTransition(source, target);
    }
  }
}

function invalidTransition(from: string, to: Status) {
  return new AppError('invalid_transition', `A bug cannot move from ${from} to ${to}`, {
    from,
    to,
    allowed: TRANSITIONS[from as Status] ?? [],
  });
}

type BugUpdate = Partial<typeof bugs.$inferInsert>;

/** Fields that follow from entering a status, so no caller can forget them. */
function entering(to: Status, at: string): BugUpdate {
  const released = { claimedBy: null, leaseExpiresAt: null };
  switch (to) {
    case 'NEW':
      return { ...released, leaseExpiryCount: 0 };
    case 'FIXING':
      return {};
    case 'MERGED':
      return { ...released, mergedAt: sql`coalesce(${bugs.mergedAt}, ${at})` as unknown as string };
    case 'DEPLOYED':
      return { ...released, deployedAt: at };
    default:
      return released;
  }
}

/** A status chosen per row: `matched` where `when` holds, `otherwise` elsewhere (the sweep's lease count). */
export interface StatusChoice {
  when: SQL;
  matched: Status;
  otherwise: Status;
}

export interface Move {
  /** The statuses the bugs may leave; only bugs in one of them move. */
  from: readonly Status[];
  to: Status | StatusChoice;
  /** Which bugs move, besides being in `from`. */
  where?: SQL;
  actor: string;
  note: string | SQL | null;
  at: string;
  /** Extra columns written by the same update (PR data from a webhook, the claim's lease). */
  set?: BugUpdate;
}

const targetsOf = (to: Move['to']): Status[] => (typeof to === 'string' ? [to] : [to.matched, to.otherwise]);

const statusValue = (to: Move['to']): Status | SQL =>
  typeof to === 'string' ? to : sql`CASE WHEN ${to.when} THEN ${to.matched} ELSE ${to.otherwise} END`;

/** The rows that end in `target`: all of them, or the branch of a choice that leads there. */
function endingIn(to: Move['to'], target: Status): SQL | undefined {
  if (typeof to === 'string') return undefined;
  return target === to.matched ? to.when : not(to.when);
}

/**
 * The one shape of a history row: an INSERT … SELECT over the bugs that move, run before
 * the update so that the rows still show where they came from (and who held the lease).
 */
export function historyRows(
  db: Db,
  where: SQL | undefined,
  row: { from: Status | SQL; to: Status | SQL; actor: string; note: string | SQL | null; at: string },
) {
  return db.insert(statusHistory).select(
    db
      .select({
        id: sql<number>`NULL`.as('id'),
        bugId: bugs.id,
        fromStatus: sql<string>`${row.from}`.as('from_status'),
        toStatus: sql<string>`${row.to}`.as('to_status'),
        actor: sql<string>`${row.actor}`.as('actor'),
        note: sql<string | null>`${row.note}`.as('note'),
        at: sql<string>`${row.at}`.as('at'),
      })
      .from(bugs)
      .where(where),
  );
}

/** The statements of a move, in order: history, alerts, then the update (which answers the moved rows). */
export function moveStatements(db: Db, move: Move): BatchItem<'sqlite'>[] {
  const targets = targetsOf(move.to);
  assertAllowed(move.from, targets);
  const moving = and(inArray(bugs.status, [...move.from]), move.where);
  const entered: BugUpdate =
    typeof move.to === 'string' ? entering(move.to, move.at) : { claimedBy: null, leaseExpiresAt: null };
  const alerts = targets.flatMap((target) => {
    const kind = ALERT_ON_ENTRY[target];
    if (!kind) return [];
    return [
      db.insert(alertOutbox).select(
        db
          .select(outboxRowOf(kind, move.at))
          .from(bugs)
          .where(and(moving, endingIn(move.to, target))),
      ),
    ];
  });
  return [
    historyRows(db, moving, {
      from: bugs.status as unknown as SQL,
      to: statusValue(move.to),
      actor: move.actor,
      note: move.note,
      at: move.at,
    }),
    ...alerts,
    db
      .update(bugs)
      .set({ ...entered, ...move.set, status: statusValue(move.to) as Status, statusChangedAt: move.at })
      .where(moving)
      .returning(),
  ];
}

/** Moves every bug that matches, atomically; answers the moved rows. */
export async function moveBugs(db: Db, move: Move): Promise<BugRow[]> {
  const results = await batch(db, moveStatements(db, move));
  return results[results.length - 1] as BugRow[];
}

export interface StatusChange {
  actor: string;
  note?: string | null;
  at?: string;
  /** Extra columns written in the same statement (PR data from a webhook, say). */
  set?: BugUpdate;
}

/**
 * Moves one bug: compare-and-set on the status it was read in, so of two concurrent
 * changes one wins and the other answers 409.
 */
export async function moveBug(db: Db, id: number, to: Status, change: StatusChange): Promise<BugRow> {
  const current = await getBugRow(db, id);
  if (!current) throw notFound('Bug');
  if (!canTransition(current.status, to)) throw invalidTransition(current.status, to);
  const [moved] = await moveBugs(db, {
    from: [current.status as Status],
    to,
    where: eq(bugs.id, id),
    actor: change.actor,
    note: change.note ?? null,
    at: change.at ?? new Date().toISOString(),
    set: change.set,
  });
  if (!moved) {
    throw new AppError('invalid_transition', `Bug ${id} changed status concurrently; reload and retry`);
  }
  return moved;
}
