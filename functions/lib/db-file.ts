import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BatchRunner, Rows, Statement } from './sql-batch';
import type { WriterData, WriterReply, WriterRequest } from './writer-thread';

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

export interface FileWriter {
  run: BatchRunner;
  close(): Promise<void>;
}

export function openFileWriter(path: string): FileWriter {
  const worker = startWriter({ path });
  const pending = new Map<number, { resolve(rows: Rows[]): void; reject(error: Error): void }>();
  let nextId = 0;
  let failure: Error | null = null;
  worker.on('message', (message: WriterReply) => {
    if (!('id' in message)) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if ('error' in message)
      waiter.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
    else waiter.resolve(message.rows);
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
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, statements } satisfies WriterRequest);
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
