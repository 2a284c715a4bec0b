import { parentPort, workerData } from 'node:worker_threads';
import Database from 'libsql';
import type { Rows, SqlValue } from './sql-batch';
import { SQLITE_PRAGMAS } from './sqlite-pragmas';

// The ingest writer thread that `openFileWriter` (db-file.ts) starts: one connection to the
// database file, statements prepared once and reused, each batch one transaction.

export interface WriterData {
  path: string;
}

/**
 * A batch as the main thread sends it: one flat list of plain values, cheap to copy between
 * threads (a list of statement objects, each with its SQL text, cost the main thread more to
 * clone than the writes cost here).
 *
 * - `values`: for each statement in order, its SQL id, its number of arguments, then them.
 * - `sql`: `[id, text]` pairs for SQL ids this thread has not been sent before.
 * - `repeats`: `[at, from]` pairs: `values[at]` is the same long text as `values[from]`, sent
 *   once (a report's stack is both in its bug's upsert and in its occurrence).
 * - `forget`: the main thread started its SQL ids afresh; drop the ones known so far.
 */
export interface WriterBatch {
  id: number;
  values: SqlValue[];
  sql: [number, string][];
  repeats: number[];
  forget?: true;
}
export type WriterRequest = WriterBatch | { close: true };

/**
 * A batch's rows, flat: for each statement in order, its number of rows; when that is not 0,
 * its number of columns, the column names, then the rows' values row by row.
 */
export type WriterReply =
  | { id: number; results: unknown[] }
  | { id: number; error: { message: string; code?: string } }
  | { closed: true };

if (!parentPort) throw new Error('writer-thread runs in a worker thread started by openFileWriter');
const port = parentPort;
const reply = (message: WriterReply) => port.postMessage(message);

const database = new Database((workerData as WriterData).path);
for (const pragma of SQLITE_PRAGMAS) database.exec(pragma);

const sqlById = new Map<number, string>();
const prepared = new Map<number, Database.Statement>();
function statementFor(id: number): Database.Statement {
  let statement = prepared.get(id);
  if (!statement) {
    const sql = sqlById.get(id);
    if (sql === undefined) throw new Error(`writer thread: no SQL was sent for statement ${id}`);
    statement = database.prepare(sql);
    prepared.set(id, statement);
  }
  return statement;
}

const runAll = database.transaction((values: SqlValue[]): unknown[] => {
  const results: unknown[] = [];
  let at = 0;
  while (at < values.length) {
    const statement = statementFor(values[at] as number);
    const count = values[at + 1] as number;
    const args = values.slice(at + 2, at + 2 + count);
    at += 2 + count;
    if (!statement.reader) {
      statement.run(...args);
      results.push(0);
      continue;
    }
    const rows = statement.all(...args) as Rows;
    results.push(rows.length);
    if (rows.length === 0) continue;
    const columns = Object.keys(rows[0]!);
    results.push(columns.length, ...columns);
    for (const row of rows) for (const column of columns) results.push(row[column]);
  }
  return results;
});

port.on('message', (message: WriterRequest) => {
  if ('close' in message) {
    database.close();
    reply({ closed: true });
    return;
  }
  if (message.forget) {
    sqlById.clear();
    prepared.clear();
  }
  for (const [id, sql] of message.sql) sqlById.set(id, sql);
  const { values, repeats } = message;
  for (let i = 0; i < repeats.length; i += 2) values[repeats[i]!] = values[repeats[i + 1]!]!;
  try {
    reply({ id: message.id, results: runAll(values) });
  } catch (error) {
    const { message: text, code } = (error ?? {}) as { message?: unknown; code?: string };
    reply({ id: message.id, error: { message: String(text || error), code } });
  }
});
