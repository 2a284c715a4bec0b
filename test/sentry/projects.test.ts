import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateLibsql, migrationsFolder, openLibsql } from '../../functions/lib/db-libsql';
import { INGEST_SQL } from '../../functions/services/ingest';
import { SentryProjectCache } from '../../functions/services/sentry/projects';
import { openTempDatabase, type TempDatabase } from '../helpers/database';
import { createProject } from './fixtures';

async function sentryIds(database: TempDatabase['handle']) {
  const { rows } = await database.client.execute('SELECT id, sentry_id FROM projects ORDER BY sentry_id');
  return rows.map((row) => [row.id, row.sentry_id]);
}

describe('projects.sentry_id', () => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await openTempDatabase('sentry-ids');
  });
  afterAll(() => temp.remove());

  it('is assigned by the database wherever a project is created, and kept on upsert', async () => {
    const { client, db } = temp.handle;
    await createProject(db, 'api', { name: 'API' });
    // The ingest hot path's raw statement, which names no sentry_id.
    const now = new Date().toISOString();
    await client.execute({ sql: INGEST_SQL.upsertProject, args: ['worker', null, now, now] });
    await createProject(db, 'web');
    await client.execute({
      sql: INGEST_SQL.upsertProject,
      args: ['api', 'https://git.example/api', now, now],
    });
    await createProject(db, 'worker', { description: 'queues' });
    expect(await sentryIds(temp.handle)).toEqual([
      ['api', 1],
      ['worker', 2],
      ['web', 3],
    ]);
  });

  it('never changes once assigned', async () => {
    await expect(
      temp.handle.client.execute("UPDATE projects SET sentry_id = 42 WHERE id = 'api'"),
    ).rejects.toThrow(/stable/);
    await temp.handle.client.execute("UPDATE projects SET name = 'Renamed' WHERE id = 'api'");
    expect((await sentryIds(temp.handle))[0]).toEqual(['api', 1]);
  });

  it('is unique', async () => {
    const now = new Date().toISOString();
    await expect(
      temp.handle.client.execute({
        sql: 'INSERT INTO projects (id, sentry_id, created_at, updated_at) VALUES (?, 2, ?, ?)',
        args: ['dup', now, now],
      }),
    ).rejects.toThrow(/UNIQUE/);
  });
});

describe('migration 0004', () => {
  it('numbers existing projects in creation order, then keeps counting', async () => {
    const temp = await openTempDatabase('sentry-backfill-base');
    temp.handle.close();
    // The committed migrations up to 0003, as a database created before Sentry ingestion had them.
    const before = join(temp.dir, 'migrations-0003');
    mkdirSync(join(before, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8'));
    journal.entries = journal.entries.filter((entry: { idx: number }) => entry.idx <= 3);
    writeFileSync(join(before, 'meta', '_journal.json'), JSON.stringify(journal));
    for (const entry of journal.entries as { tag: string }[]) {
      copyFileSync(join(migrationsFolder, `${entry.tag}.sql`), join(before, `${entry.tag}.sql`));
    }
    const handle = await openLibsql(`file:${join(temp.dir, 'old.db')}`);
    try {
      await migrate(handle.db as unknown as Parameters<typeof migrate>[0], { migrationsFolder: before });
      await handle.client.execute(`INSERT INTO projects (id, created_at, updated_at) VALUES
        ('b', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z'),
        ('a', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z'),
        ('z', '2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z')`);
      await migrateLibsql(handle);
      await createProject(handle.db, 'new');
      expect(await sentryIds(handle)).toEqual([
        ['z', 1],
        ['a', 2],
        ['b', 3],
        ['new', 4],
      ]);
    } finally {
      handle.close();
      temp.remove();
    }
  });
});

describe('SentryProjectCache', () => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await openTempDatabase('sentry-cache');
  });
  afterAll(() => temp.remove());

  it('asks again for an unknown number after a few seconds, and keeps a known one', async () => {
    let now = 1_000_000;
    const cache = new SentryProjectCache(() => now);
    const { db, client } = temp.handle;
    expect(await cache.projectId(db, 1)).toBeUndefined();
    await createProject(db, 'late');
    expect(await cache.projectId(db, 1)).toBeUndefined();
    now += 5_000;
    expect(await cache.projectId(db, 1)).toBe('late');
    // A hit is not asked again (projects are never renumbered); remove the row to prove it.
    await client.execute("DELETE FROM projects WHERE id = 'late'");
    now += 3_600_000;
    expect(await cache.projectId(db, 1)).toBe('late');
  });

  it('stays within its size, dropping the oldest entry', async () => {
    const cache = new SentryProjectCache(Date.now, 2);
    const { db, client } = temp.handle;
    await createProject(db, 'one');
    await createProject(db, 'two');
    const ids = Object.fromEntries((await sentryIds(temp.handle)).map(([id, n]) => [id, Number(n)]));
    expect(await cache.projectId(db, ids.one!)).toBe('one');
    expect(await cache.projectId(db, ids.two!)).toBe('two');
    await client.execute("DELETE FROM projects WHERE id = 'one'");
    expect(await cache.projectId(db, ids.one!)).toBe('one');
    await cache.projectId(db, 99);
    // The first entry made room for the third, so it is read again: the row is gone.
    expect(await cache.projectId(db, ids.one!)).toBeUndefined();
  });
});
