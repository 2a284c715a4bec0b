import { inArray, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { BaseSQLiteDatabase, SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type * as schema from '../../schema';
import { yieldToEventLoop } from './time';

export type Schema = typeof schema;

/** The part of drizzle that libSQL and D1 handles share; services are written against it. */
export type Db = BaseSQLiteDatabase<'async', unknown, Schema> & {
  batch<U extends BatchItem<'sqlite'>, T extends Readonly<[U, ...U[]]>>(batch: T): Promise<unknown[]>;
};

/** Runs writes that must stand together as one atomic batch (D1 has no interactive transactions). */
export async function batch(db: Db, items: BatchItem<'sqlite'>[]): Promise<unknown[]> {
  if (items.length === 0) return [];
  return db.batch(items as unknown as [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]]);
}

/** Rows per statement when purging: each chunk is a short write the ingest path can slip between. */
export const PURGE_CHUNK = 5_000;

/**
 * Deletes what `where` matches in chunks of PURGE_CHUNK, yielding to the event loop between
 * them, so a large backlog (a long downtime, a shorter retention) neither holds the write
 * lock for one long statement nor gathers every deleted id in memory. Answers the count.
 */
export async function deleteInChunks(
  db: Db,
  table: SQLiteTable & { id: SQLiteColumn },
  where: SQL,
  chunk = PURGE_CHUNK,
): Promise<number> {
  let total = 0;
  for (;;) {
    const removed = await db
      .delete(table)
      .where(inArray(table.id, db.select({ id: table.id }).from(table).where(where).limit(chunk)))
      .returning({ id: table.id });
    total += removed.length;
    if (removed.length < chunk) return total;
    await yieldToEventLoop();
  }
}
