import type { BatchItem } from 'drizzle-orm/batch';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from '../../schema';

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
