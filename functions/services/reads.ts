import type { Deps } from '../env';
import type { Db } from '../lib/db';
import { type BugListQuery, getBugDetail, listBugs } from './bugs';
import { dashboardStats, type StatsQuery } from './stats';

/**
 * The reads a person waits for: the bug list, a bug page, the dashboard's statistics. On a
 * Node database file each runs whole in a read thread (lib/file-reader.ts): the request crosses
 * to the thread once and its answer comes back once, and building the SQL, choosing the list's
 * plan and shaping the rows happen there too, not in the event loop that takes reports.
 * Elsewhere (the Worker on D1, a remote libSQL server) they run in process on `db`.
 */
export const readOperations = {
  listBugs: (db: Db, query: BugListQuery) => listBugs(db, query),
  getBugDetail: (db: Db, id: number) => getBugDetail(db, id),
  dashboardStats: (db: Db, query: StatsQuery) => dashboardStats(db, query),
};

type Operations = typeof readOperations;
export type ReadName = keyof Operations;
/** An operation's arguments past the database. */
export type ReadArgs<K extends ReadName> =
  Parameters<Operations[K]> extends [Db, ...infer Rest] ? Rest : never;
export type ReadResult<K extends ReadName> = Awaited<ReturnType<Operations[K]>>;
/** The read operations bound to where they run. */
export type Reads = { [K in ReadName]: (...args: ReadArgs<K>) => Promise<ReadResult<K>> };

/** Every operation bound to one runner, which gets its name and its arguments past the database. */
export function bindReads(
  run: <K extends ReadName>(name: K, args: ReadArgs<K>) => Promise<ReadResult<K>>,
): Reads {
  const names = Object.keys(readOperations) as ReadName[];
  return Object.fromEntries(
    names.map((name) => [name, (...args: ReadArgs<typeof name>) => run(name, args)]),
  ) as Reads;
}

/** The operations run in process on `db`. */
export const readsOn = (db: Db): Reads =>
  bindReads((name, args) => {
    const operation = readOperations[name] as (db: Db, ...rest: unknown[]) => Promise<never>;
    return operation(db, ...args);
  });

/** Where a request's reads run: the read threads when the entry has them, else its `db`. */
export const readsOf = (deps: Pick<Deps, 'db' | 'reads'>): Reads => deps.reads ?? readsOn(deps.db);
