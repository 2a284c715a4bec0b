import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BatchRunner, Rows, SqlValue, Statement } from './sql-batch';
import type { WriterBatch, WriterData, WriterReply, WriterRequest } from './writer-thread';

/**
 * The ingest writer runs in a worker thread with its own connection to the database file
 * (writer-thread.ts): SQLite calls are synchronous, and on the main thread every batch would
 * stall the HTTP server for its whole duration.
 *
 * The thread's module sits beside this one with the same extension: writer-thread.ts beside
 * the TypeScript sources, writer-thread.mjs beside the bundle in dist/server/ (a second entry
 * of scripts/build-server.mjs).
 */
const writerUrl = new URL(`./writer-thread${extname(import.meta.url)}`, import.meta.url);

/**
 * From the bundle the thread loads its module by URL. From the TypeScript sources (tsx, vitest)
 * it needs a loader of its own: vitest's is not a Node loader, and on Node 20 `--import tsx`
 * registers tsx's hooks on the main thread only. tsx's ESM hooks would start a loader thread
 * per writer (about 0.4 s each, paid by every suite that opens Log Center); its CommonJS hook
 * runs in the thread itself, so the module is required through it. It therefore must not use
 * top-level await.
 */
function startWriter(workerData: WriterData): Worker {
  if (extname(writerUrl.pathname) !== '.ts') return new Worker(writerUrl, { workerData });
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const load = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(fileURLToPath(writerUrl))});`;
  return new Worker(load, { eval: true, workerData, execArgv: [] });
}

/**
 * Another thread module beside this one (reader-thread for file-reader.ts), started the way
 * startWriter starts the writer; scripts/build-server.mjs bundles it as an entry of its own.
 */
export function startSiblingThread(name: 'reader-thread', workerData: unknown): Worker {
  const url = new URL(`./${name}${extname(import.meta.url)}`, import.meta.url);
  if (extname(url.pathname) !== '.ts') return new Worker(url, { workerData });
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const load = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(fileURLToPath(url))});`;
  return new Worker(load, { eval: true, workerData, execArgv: [] });
}

export interface FileWriter {
  run: BatchRunner;
  close(): Promise<void>;
}

/** Texts at least this long are sent once per batch however many statements bind them. */
const REPEAT_MIN_CHARS = 1024;
/**
 * A short key for a long text. Used as a Map key, a long text itself would be slow: V8 does not
 * hash strings past 16 K characters, so texts of one length would all collide and be compared
 * in full. Texts with the same key are then compared with ===, which is instant for the same
 * string (the usual repeat: one report's stack in two statements).
 */
const textKey = (text: string) => `${text.length}:${text.slice(0, 48)}:${text.slice(-48)}`;

/** SQL texts the writer is told apart by id; past this many the ids start afresh. */
const MAX_SQL_IDS = 4096;

/**
 * A batch in the form the writer thread takes (`WriterBatch`): each SQL text sent once per
 * thread, then known by its id, and every argument in one flat list.
 */
class BatchEncoder {
  private readonly ids = new Map<string, number>();
  private forget = false;

  encode(id: number, statements: Statement[]): WriterBatch {
    if (this.ids.size + statements.length > MAX_SQL_IDS) {
      this.ids.clear();
      this.forget = true;
    }
    const values: SqlValue[] = [];
    const sql: [number, string][] = [];
    const repeats: number[] = [];
    let longTexts: Map<string, number[]> | undefined;
    for (const statement of statements) {
      let sqlId = this.ids.get(statement.sql);
      if (sqlId === undefined) {
        sqlId = this.ids.size;
        this.ids.set(statement.sql, sqlId);
        sql.push([sqlId, statement.sql]);
      }
      values.push(sqlId, statement.args.length);
      for (const arg of statement.args) {
        if (typeof arg === 'string' && arg.length >= REPEAT_MIN_CHARS) {
          longTexts ??= new Map();
          const key = textKey(arg);
          const seen = longTexts.get(key);
          const from = seen?.find((at) => values[at] === arg);
          if (from !== undefined) {
            repeats.push(values.length, from);
            values.push(null);
            continue;
          }
          if (seen) seen.push(values.length);
          else longTexts.set(key, [values.length]);
        }
        values.push(arg);
      }
    }
    const batch: WriterBatch = { id, values, sql, repeats };
    if (this.forget) {
      batch.forget = true;
      this.forget = false;
    }
    return batch;
  }

  /** The batch was not run: the SQL it sent may not have reached the writer's table. */
  unsend(batch: WriterBatch): void {
    for (const [, text] of batch.sql) this.ids.delete(text);
  }
}

/** The writer's flat results (`WriterReply`) as one list of rows per statement. */
function decodeResults(results: unknown[], statements: number): Rows[] {
  const rows: Rows[] = new Array(statements);
  let at = 0;
  for (let s = 0; s < statements; s++) {
    const count = results[at++] as number;
    const list: Rows = [];
    rows[s] = list;
    if (count === 0) continue;
    const width = results[at++] as number;
    const columns = results.slice(at, at + width) as string[];
    at += width;
    for (let r = 0; r < count; r++) {
      const row: Record<string, unknown> = {};
      for (const column of columns) row[column] = results[at++];
      list.push(row);
    }
  }
  return rows;
}

export function openFileWriter(path: string): FileWriter {
  const worker = startWriter({ path });
  const pending = new Map<
    number,
    { statements: number; resolve(rows: Rows[]): void; reject(error: Error): void }
  >();
  const encoder = new BatchEncoder();
  let nextId = 0;
  let failure: Error | null = null;
  worker.on('message', (message: WriterReply) => {
    if (!('id' in message)) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if ('error' in message)
      waiter.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
    else waiter.resolve(decodeResults(message.results, waiter.statements));
  });
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
      const batch = encoder.encode(id, statements);
      try {
        worker.postMessage(batch satisfies WriterRequest);
      } catch (error) {
        // A value the thread cannot be sent (a function, a symbol): nothing was queued.
        encoder.unsend(batch);
        reject(error);
        return;
      }
      if (pending.size === 0) worker.ref();
      pending.set(id, { statements: statements.length, resolve, reject });
    });
  };

  return {
    run,
    close: () =>
      new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage({ close: true } satisfies WriterRequest);
      }).then(() => worker.terminate().then(() => undefined)),
  };
}
