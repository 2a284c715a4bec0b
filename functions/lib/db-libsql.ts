import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Client, createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import * as schema from '../../schema';
import type { Db } from './db';
import { projectRoot } from './paths';

export const migrationsFolder = join(projectRoot(), 'schema', 'migrations');

export interface LibsqlHandle {
  client: Client;
  db: Db;
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
  const client = createClient({ url: normalised, authToken });
  if (normalised.startsWith('file:')) {
    // WAL lets readers (dashboard, list queries) proceed while the ingest batch writes;
    // NORMAL is durable across application crashes, which is what "stored before 2xx" needs.
    await client.execute('PRAGMA journal_mode=WAL');
    await client.execute('PRAGMA synchronous=NORMAL');
    await client.execute('PRAGMA busy_timeout=5000');
  }
  const db = drizzle(client, { schema }) as unknown as Db;
  return { client, db, close: () => client.close() };
}

/** The one migrate function: Node start-up, tests and `npm run db:migrate` all call it. */
export async function migrateLibsql(handle: LibsqlHandle): Promise<void> {
  await migrate(handle.db as unknown as Parameters<typeof migrate>[0], { migrationsFolder });
}
