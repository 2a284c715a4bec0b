import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Client, createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import * as schema from '../../schema';
import type { Db } from './db';
import { projectRoot } from './paths';
import { SQLITE_BUSY_TIMEOUT_MS, SQLITE_PRAGMAS } from './sqlite-pragmas';
import { gatedClient, WriteGate } from './write-gate';

export const migrationsFolder = join(projectRoot(), 'schema', 'migrations');

export interface LibsqlHandle {
  client: Client;
  db: Db;
  /** For a database file: what every writer in this process queues on (see WriteGate). */
  gate?: WriteGate;
  close(): void;
}

/** Accepts `file:` URLs, plain paths, and `libsql://` / `http(s)://` server URLs (Turso, sqld). */
export function normaliseLibsqlUrl(url: string): string {
  if (/^(file|libsql|https?|wss?):/.test(url)) return url;
  return `file:${url}`;
}

export async function openLibsql(url: string, authToken?: string): Promise<LibsqlHandle> {
  const normalised = normaliseLibsqlUrl(url);
  if (normalised.startsWith('file:')) {
    const path = normalised.slice('file:'.length).split('?')[0] ?? '';
    if (path && path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  }
  if (!normalised.startsWith('file:')) {
    const client = createClient({ url: normalised, authToken });
    return { client, db: drizzle(client, { schema }) as unknown as Db, close: () => client.close() };
  }
  // The client pools connections and opens more while one is held; `timeout` gives each of
  // them a busy timeout, for writers in other processes (writers in this one use the gate).
  const raw = createClient({ url: normalised, timeout: SQLITE_BUSY_TIMEOUT_MS });
  const gate = new WriteGate();
  const client = gatedClient(raw, gate);
  // These run on the pooled connection the client lends now. Connections it opens later share
  // the file's journal mode, get the busy timeout from `timeout` and keep synchronous=FULL.
  for (const pragma of SQLITE_PRAGMAS) await client.execute(pragma);
  const db = drizzle(client, { schema }) as unknown as Db;
  return { client, db, gate, close: () => raw.close() };
}

/** The one migrate function: Node start-up, tests and `npm run db:migrate` all call it. */
export async function migrateLibsql(handle: LibsqlHandle): Promise<void> {
  await migrate(handle.db as unknown as Parameters<typeof migrate>[0], { migrationsFolder });
}
