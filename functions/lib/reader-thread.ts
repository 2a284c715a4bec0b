import { parentPort, workerData } from 'node:worker_threads';
import { drizzle } from 'drizzle-orm/sqlite-proxy';
import Database from 'libsql';
import * as schema from '../../schema';
import { keepListTotals } from '../services/bugs';
import { type ReadArgs, type ReadName, readOperations } from '../services/reads';
import type { Db } from './db';
import { SQLITE_BUSY_TIMEOUT_MS } from './sqlite-pragmas';

// The read thread that `openFileReader` (file-reader.ts) starts: its own connection to the
// database file, which never writes, so the bug list, the dashboard's statistics and bug pages
// run beside the report handling instead of inside the main thread's event loop. In WAL mode
// it reads the last committed state without waiting for the writer, and the writer never
// waits for it.

export interface ReaderData {
  path: string;
}
/** One read operation (services/reads.ts) with its arguments past the database. */
export type ReaderRequest =
  | { [K in ReadName]: { id: number; name: K; args: ReadArgs<K> } }[ReadName]
  | { close: true };
export type ReaderReply =
  | { id: number; result: unknown }
  | { id: number; error: { message: string; code?: string } }
  | { closed: true };

/**
 * Each read thread's page cache. An operation reads in one transaction, and within it the count
 * and the page read the same pages; SQLite's default (2 MiB) let a count over a few thousand
 * rows push out what the page then read again. SQLite empties the cache whenever another
 * connection has committed, so while reports arrive it rarely fills.
 */
export const READER_CACHE_KIB = 16 * 1024;

if (!parentPort) throw new Error('reader-thread runs in a worker thread started by openFileReader');
const port = parentPort;
const reply = (message: ReaderReply) => port.postMessage(message);

const database = new Database((workerData as ReaderData).path);
// A connection that never writes: no journal-mode change, no checkpoint duty, refused writes.
database.exec('PRAGMA query_only=ON');
database.exec(`PRAGMA busy_timeout=${SQLITE_BUSY_TIMEOUT_MS}`);
database.exec(`PRAGMA cache_size=-${READER_CACHE_KIB}`);

/** The services' queries are a few dozen texts; the values vary, not the SQL. */
const MAX_PREPARED = 256;
const prepared = new Map<string, Database.Statement>();
function statementFor(sql: string): Database.Statement {
  let statement = prepared.get(sql);
  if (!statement) {
    if (prepared.size >= MAX_PREPARED) prepared.clear();
    statement = database.prepare(sql);
    if (statement.reader) statement.raw(true);
    prepared.set(sql, statement);
  }
  return statement;
}

/** How drizzle asks (sqlite-proxy): `get` wants one row, the others every row, as arrays. */
function read(sql: string, params: unknown[], method: string): unknown {
  const statement = statementFor(sql);
  if (!statement.reader) throw new Error('the read thread runs statements that read only');
  return method === 'get' ? statement.get(...params) : statement.all(...params);
}

/**
 * The services' drizzle handle on this connection: each call runs at once, synchronously. It
 * keeps the list's totals between requests (services/bugs.ts).
 */
const db = keepListTotals(
  drizzle(
    async (sql, params, method) => ({ rows: read(sql, params, method) as unknown[] }),
    async (queries) =>
      queries.map(({ sql, params, method }) => ({ rows: read(sql, params, method) as unknown[] })),
    { schema },
  ) as unknown as Db,
);

/** An operation reads one snapshot: its count and its page agree. */
async function run(request: Extract<ReaderRequest, { name: ReadName }>): Promise<unknown> {
  database.exec('BEGIN');
  try {
    const operation = readOperations[request.name] as (db: Db, ...args: unknown[]) => Promise<unknown>;
    return await operation(db, ...request.args);
  } finally {
    database.exec('COMMIT');
  }
}

// One operation at a time: each holds the connection's read transaction until it answers.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ReaderRequest) => {
  if ('close' in message) {
    queue = queue.then(() => {
      database.close();
      reply({ closed: true });
    });
    return;
  }
  queue = queue.then(async () => {
    try {
      reply({ id: message.id, result: await run(message) });
    } catch (error) {
      const { message: text, code } = (error ?? {}) as { message?: unknown; code?: string };
      reply({ id: message.id, error: { message: String(text || error), code } });
    }
  });
});
