import type { Worker } from 'node:worker_threads';
import { bindReads, type ReadArgs, type ReadName, type ReadResult, type Reads } from '../services/reads';
import { startSiblingThread } from './db-file';
import { AppError, ERROR_CODES, type ErrorCode } from './errors';
import type { ReaderReply, ReaderRequest } from './reader-thread';

export interface FileReader {
  /** The read operations, each run whole in a read thread on a connection that never writes. */
  reads: Reads;
  close(): Promise<void>;
}

const ERROR_CODE_SET = new Set<string>(ERROR_CODES);

/** A domain error from an operation stays one (its code picks the answer's status). */
function errorFrom({ message, code }: { message: string; code?: string }): Error {
  if (code && ERROR_CODE_SET.has(code)) return new AppError(code as ErrorCode, message);
  return Object.assign(new Error(message), { code });
}

/**
 * Read threads at most. Two let two readers (two dashboard tabs, the list and its statistics)
 * run at once on a 2-core machine; more would only compete with the writer and the main thread.
 */
export const READ_THREADS = 2;

interface Reader {
  worker: Worker;
  pending: Map<number, { resolve(result: unknown): void; reject(error: Error): void }>;
}

/**
 * The bug list, the dashboard's statistics and bug pages on a database file run in threads of
 * their own (reader-thread.ts), each with a read-only connection: a list query over 100k bugs
 * takes milliseconds of synchronous SQLite work, and on the main thread every report arriving
 * meanwhile waited for it.
 *
 * A query goes to the thread with the fewest queries waiting; a second thread starts only when
 * the first is busy, so a server that only ingests never starts one. An idle thread does not
 * keep the process alive.
 */
export function openFileReader(path: string, threads = READ_THREADS): FileReader {
  const readers: Reader[] = [];
  let failure: Error | null = null;
  let nextId = 0;

  const fail = (error: Error) => {
    failure ??= error;
    for (const reader of readers) {
      for (const waiter of reader.pending.values()) waiter.reject(error);
      reader.pending.clear();
    }
  };
  const start = (): Reader => {
    const worker = startSiblingThread('reader-thread', { path });
    const reader: Reader = { worker, pending: new Map() };
    worker.on('message', (message: ReaderReply) => {
      if (!('id' in message)) return;
      const waiter = reader.pending.get(message.id);
      if (!waiter) return;
      reader.pending.delete(message.id);
      if (reader.pending.size === 0) worker.unref();
      if ('error' in message) waiter.reject(errorFrom(message.error));
      else waiter.resolve(message.result);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`a read thread stopped (exit code ${code})`)));
    worker.unref();
    readers.push(reader);
    return reader;
  };
  const pick = (): Reader => {
    let best: Reader | undefined;
    for (const reader of readers) if (!best || reader.pending.size < best.pending.size) best = reader;
    if (!best || (best.pending.size > 0 && readers.length < threads)) return start();
    return best;
  };

  const ask = <K extends ReadName>(name: K, args: ReadArgs<K>): Promise<ReadResult<K>> => {
    if (failure) return Promise.reject(failure);
    const reader = pick();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (reader.pending.size === 0) reader.worker.ref();
      reader.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      reader.worker.postMessage({ id, name, args } as unknown as ReaderRequest);
    });
  };
  const reads = bindReads(ask);

  return {
    reads,
    async close() {
      failure ??= new Error('the read threads are closed');
      await Promise.all(
        readers.map(async ({ worker }) => {
          await new Promise<void>((resolve) => {
            worker.once('message', () => resolve());
            worker.once('exit', () => resolve());
            worker.postMessage({ close: true } satisfies ReaderRequest);
          });
          await worker.terminate();
        }),
      );
    },
  };
}
