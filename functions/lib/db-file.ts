import { Worker } from 'node:worker_threads';
import type { BatchRunner, Rows, Statement } from './sql-batch';

/**
 * The ingest writer runs in a worker thread with its own connection to the database file:
 * SQLite calls are synchronous, and on the main thread every batch would stall the HTTP
 * server for its whole duration. Statements are prepared once and reused there.
 * The worker is plain CommonJS passed as source, so it runs the same from the TypeScript
 * sources and from the bundle in dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.libsqlPath);
const database = new Database(workerData.path);
database.exec('PRAGMA journal_mode=WAL');
database.exec('PRAGMA synchronous=NORMAL');
database.exec('PRAGMA busy_timeout=5000');
const cache = new Map();
function prepared(sql) {
  let statement = cache.get(sql);
  if (!statement) {
    statement = database.prepare(sql);
    if (cache.size > 2048) cache.clear(); // three batch-wide statements for each batch size up to 256
    cache.set(sql, statement);
  }
  return statement;
}
const runAll = database.transaction((statements) =>
  statements.map((s) => {
    const statement = prepared(s.sql);
    if (statement.reader) return statement.all(...s.args);
    statement.run(...s.args);
    return [];
  }),
);
parentPort.on('message', (message) => {
  if (message.close) {
    database.close();
    parentPort.postMessage({ closed: true });
    return;
  }
  try {
    parentPort.postMessage({ id: message.id, rows: runAll(message.statements) });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: { message: String(error && error.message || error), code: error && error.code } });
  }
});
`;

export interface FileWriter {
  run: BatchRunner;
  close(): Promise<void>;
}

export function openFileWriter(path: string): FileWriter {
  const libsqlPath = import.meta.resolve('libsql').replace(/^file:\/\//, '');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, libsqlPath: decodeURIComponent(libsqlPath) },
  });
  const pending = new Map<number, { resolve(rows: Rows[]): void; reject(error: Error): void }>();
  let nextId = 0;
  let failure: Error | null = null;
  worker.on(
    'message',
    (message: { id: number; rows?: Rows[]; error?: { message: string; code?: string } }) => {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error)
        waiter.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
      else waiter.resolve(message.rows ?? []);
    },
  );
  worker.on('error', (error) => {
    failure = error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });
  // An idle writer must not keep the process alive on its own; a batch in flight must.
  worker.unref();

  const run: BatchRunner = (statements: Statement[]) => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<Rows[]>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, statements });
    });
  };

  return {
    run,
    close: () =>
      new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage({ close: true });
      }).then(() => worker.terminate().then(() => undefined)),
  };
}
