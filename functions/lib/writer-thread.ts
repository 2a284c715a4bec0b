import { parentPort, workerData } from 'node:worker_threads';
import Database from 'libsql';
import type { Rows, Statement } from './sql-batch';
import { SQLITE_PRAGMAS } from './sqlite-pragmas';

// The ingest writer thread that `openFileWriter` (db-file.ts) starts: one connection to the
// database file, statements prepared once and reused, each batch one transaction.

export interface WriterData {
  path: string;
}
/** A batch to run as one transaction, or the request to close the database. */
export type WriterRequest = { id: number; statements: Statement[] } | { close: true };
/** A batch's rows (one list per statement) or its error, or the answer to `close`. */
export type WriterReply =
  | { id: number; rows: Rows[] }
  | { id: number; error: { message: string; code?: string } }
  | { closed: true };

if (!parentPort) throw new Error('writer-thread runs in a worker thread started by openFileWriter');
const port = parentPort;
const reply = (message: WriterReply) => port.postMessage(message);

const database = new Database((workerData as WriterData).path);
for (const pragma of SQLITE_PRAGMAS) database.exec(pragma);

const cache = new Map<string, Database.Statement>();
function prepared(sql: string): Database.Statement {
  let statement = cache.get(sql);
  if (!statement) {
    statement = database.prepare(sql);
    if (cache.size > 2048) cache.clear(); // three batch-wide statements for each batch size up to 256
    cache.set(sql, statement);
  }
  return statement;
}

const runAll = database.transaction((statements: Statement[]): Rows[] =>
  statements.map((s) => {
    const statement = prepared(s.sql);
    if (statement.reader) return statement.all(...s.args) as Rows;
    statement.run(...s.args);
    return [];
  }),
);

port.on('message', (message: WriterRequest) => {
  if ('close' in message) {
    database.close();
    reply({ closed: true });
    return;
  }
  try {
    reply({ id: message.id, rows: runAll(message.statements) });
  } catch (error) {
    const { message: text, code } = (error ?? {}) as { message?: unknown; code?: string };
    reply({ id: message.id, error: { message: String(text || error), code } });
  }
});
