import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FileWriter, openFileWriter } from '../../functions/lib/db-file';
import type { LibsqlHandle } from '../../functions/lib/db-libsql';
import { WriteGate } from '../../functions/lib/write-gate';
import { openTempDatabase, type TempDatabase } from '../helpers/database';

// The main thread's connections and the ingest writer thread write to one database file.
// SQLite lets one of them write at a time; the others must wait their turn without
// failing with SQLITE_BUSY and without blocking the event loop in SQLite's busy handler.

let database: TempDatabase;
let handle: LibsqlHandle;
let writer: FileWriter;
beforeAll(async () => {
  database = await openTempDatabase('write-gate');
  handle = database.handle;
  writer = openFileWriter(database.file);
});
afterAll(async () => {
  await writer.close();
  database.remove();
});

const insertProject = (id: string) => ({
  sql: 'INSERT INTO projects (id, created_at, updated_at) VALUES (?, ?, ?)',
  args: [id, '2026-11-23T00:00:00.000Z', '2026-11-23T00:00:00.000Z'],
});
const projectIds = async (prefix: string) =>
  (
    await handle.client.execute({
      sql: 'SELECT id FROM projects WHERE id LIKE ? ORDER BY id',
      args: [`${prefix}%`],
    })
  ).rows.map((row) => String(row.id));

describe('write gate', () => {
  it('gives the turn to one holder at a time, in arrival order', async () => {
    const gate = new WriteGate();
    const events: string[] = [];
    const task = (name: string, ms: number) =>
      gate.run(async () => {
        events.push(`${name}:start`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        events.push(`${name}:end`);
        return name;
      });
    const a = task('a', 20);
    const failing = gate
      .run(async () => {
        throw new Error('boom');
      })
      .catch((error: Error) => `rejected: ${error.message}`);
    const results = await Promise.all([a, failing, task('b', 1), task('c', 5)]);
    expect(results).toEqual(['a', 'rejected: boom', 'b', 'c']);
    expect(events).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  });

  it('makes main-thread writes and writer-thread batches wait for an open transaction, then succeed', async () => {
    const gate = handle.gate!;
    const tx = await handle.client.transaction('write');
    await tx.execute(insertProject('gate_a'));

    // Without the gate the first would fail at once with SQLITE_BUSY on another pooled
    // connection, and the second would hold its thread in the busy handler.
    const mainWrite = handle.client.execute(insertProject('gate_b'));
    const threadBatch = gate.run(() => writer.run([insertProject('gate_c')]));
    // Reads are not gated: they answer while the transaction is open, from the last commit.
    expect(await projectIds('gate_')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await projectIds('gate_')).toEqual([]);

    await tx.commit();
    await Promise.all([mainWrite, threadBatch]);
    expect(await projectIds('gate_')).toEqual(['gate_a', 'gate_b', 'gate_c']);
  });

  it('releases the turn when a transaction rolls back or is closed', async () => {
    const rolledBack = await handle.client.transaction('write');
    await rolledBack.execute(insertProject('undo_a'));
    const afterRollback = handle.client.execute(insertProject('undo_b'));
    await rolledBack.rollback();
    await afterRollback;

    const closed = await handle.client.transaction('write');
    await closed.execute(insertProject('undo_c'));
    const afterClose = handle.client.batch([insertProject('undo_d')]);
    closed.close();
    await afterClose;
    expect(await projectIds('undo_')).toEqual(['undo_b', 'undo_d']);
  });

  it('sends a failing write back to its caller and lets the next writer through', async () => {
    await handle.client.execute(insertProject('dup_a'));
    await expect(handle.client.execute(insertProject('dup_a'))).rejects.toThrow(/UNIQUE/);
    await handle.client.execute(insertProject('dup_b'));
    expect(await projectIds('dup_')).toEqual(['dup_a', 'dup_b']);
  });
});
