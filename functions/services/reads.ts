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
type ArgsOf<K extends ReadName> = Parameters<Operations[K]> extends [Db, ...infer Rest] ? Rest : never;
export type ReadArgs<K extends ReadName> = ArgsOf<K>;
export type ReadResult<K extends ReadName> = Awaited<ReturnType<Operations[K]>>;
/** The read operations bound to where they run. */
export type Reads = { [K in ReadName]: (...args: ArgsOf<K>) => Promise<ReadResult<K>> };

/** The operations run in process on `db`. */
export function readsOn(db: Db): Reads {
  return {
    listBugs: (query) => readOperations.listBugs(db, query),
    getBugDetail: (id) => readOperations.getBugDetail(db, id),
    dashboardStats: (query) => readOperations.dashboardStats(db, query),
  };
}

/** Where a request's reads run: the read threads when the entry has them, else its `db`. */
export const readsOf = (deps: Pick<Deps, 'db' | 'reads'>): Reads => deps.reads ?? readsOn(deps.db);
