import { parentPort, workerData } from 'node:worker_threads';
import Database from 'libsql';
import { SQLITE_BUSY_TIMEOUT_MS } from './sqlite-pragmas';

// The read thread that `openFileReader` (file-reader.ts) starts: its own connection to the
// database file, which never writes, so the bug list, the dashboard's statistics and bug pages
// run beside the report handling instead of inside the main thread's event loop. In WAL mode
// it reads the last committed state without waiting for the writer, and the writer never
// waits for it.

export interface ReaderData {
  path: string;
}
/** How drizzle asks (sqlite-proxy): `get` wants one row, the others every row, as arrays. */
export type ReadMethod = 'all' | 'get' | 'values' | 'run';
export interface ReadQuery {
  sql: string;
  params: unknown[];
  method: ReadMethod;
}
/** One query, or a batch (drizzle's `db.batch`) read in one transaction: one snapshot, one hop. */
export type ReaderRequest =
  | ({ id: number } & ReadQuery)
  | { id: number; batch: ReadQuery[] }
  | { close: true };
/**
 * `rows`: a list of rows, or for `get` one row or nothing; each row an array of values. For a
 * batch, one such answer per query.
 */
export type ReaderReply =
  | { id: number; rows: unknown }
  | { id: number; error: { message: string; code?: string } }
  | { closed: true };

if (!parentPort) throw new Error('reader-thread runs in a worker thread started by openFileReader');
const port = parentPort;
const reply = (message: ReaderReply) => port.postMessage(message);

const database = new Database((workerData as ReaderData).path);
// A connection that never writes: no journal-mode change, no checkpoint duty, refused writes.
database.exec('PRAGMA query_only=ON');
database.exec(`PRAGMA busy_timeout=${SQLITE_BUSY_TIMEOUT_MS}`);

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

function read(query: ReadQuery): unknown {
  const statement = statementFor(query.sql);
  if (!statement.reader) throw new Error('the read thread runs statements that read only');
  return query.method === 'get' ? statement.get(...query.params) : statement.all(...query.params);
}

function readAll(queries: ReadQuery[]): unknown[] {
  database.exec('BEGIN');
  try {
    return queries.map(read);
  } finally {
    database.exec('COMMIT');
  }
}

port.on('message', (message: ReaderRequest) => {
  if ('close' in message) {
    database.close();
    reply({ closed: true });
    return;
  }
  try {
    const rows = 'batch' in message ? readAll(message.batch) : read(message);
    reply({ id: message.id, rows });
  } catch (error) {
    const { message: text, code } = (error ?? {}) as { message?: unknown; code?: string };
    reply({ id: message.id, error: { message: String(text || error), code } });
  }
});
