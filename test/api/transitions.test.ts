import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libsqlRunner } from '../../functions/lib/sql-batch';
import { writeReports } from '../../functions/services/ingest';
import { normaliseReport } from '../../functions/services/report';
import { moveBug, moveBugs } from '../../functions/services/transitions';
import { alertOutbox, bugs, statusHistory } from '../../schema';
import { openTempDatabase, type TempDatabase } from '../helpers/database';
import { runtimeReport } from '../helpers/payloads';
import { uniqueProject } from '../helpers/server';

/** services/transitions.ts: the one path every change of status takes. */
let database: TempDatabase;
beforeAll(async () => {
  database = await openTempDatabase('transitions');
});
afterAll(() => database.remove());

async function newBug(project: string, line: number): Promise<number> {
  const outcome = normaliseReport(
    runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: line } }),
    new Date().toISOString(),
  );
  if (!outcome.ok) throw new Error('fixture did not validate');
  // No new-bug alert: the alerts these tests count are the ones transitions queue.
  outcome.report.alert = false;
  const [result] = await writeReports(libsqlRunner(database.handle.client), [outcome.report]);
  return result!.id;
}

const historyOf = (id: number) =>
  database.handle.db
    .select()
    .from(statusHistory)
    .where(eq(statusHistory.bugId, id))
    .orderBy(statusHistory.id);

describe('transitions', () => {
  it('refuses a set-based move the table does not allow, before writing anything', async () => {
    const project = uniqueProject('tr');
    const id = await newBug(project, 1);
    const move = moveBugs(database.handle.db, {
      from: ['NEW'],
      to: 'MERGED',
      where: eq(bugs.id, id),
      actor: 'test',
      note: null,
      at: new Date().toISOString(),
    });
    await expect(move).rejects.toMatchObject({
      code: 'invalid_transition',
      extra: { from: 'NEW', to: 'MERGED' },
    });
    const [row] = await database.handle.db.select().from(bugs).where(eq(bugs.id, id));
    expect(row!.status).toBe('NEW');
    expect((await historyOf(id)).map((h) => h.toStatus)).toEqual(['NEW']);
  });

  it('moves each row to its branch of a choice, with one history row each and an alert only for FAILED', async () => {
    const project = uniqueProject('tr');
    const [first, last] = [await newBug(project, 10), await newBug(project, 11)];
    const { db } = database.handle;
    await db
      .update(bugs)
      .set({ status: 'FIXING', claimedBy: 'a1', leaseExpiryCount: 0 })
      .where(eq(bugs.id, first));
    await db
      .update(bugs)
      .set({ status: 'FIXING', claimedBy: 'a2', leaseExpiryCount: 2 })
      .where(eq(bugs.id, last));
    const moved = await moveBugs(db, {
      from: ['FIXING'],
      to: { when: sql`${bugs.leaseExpiryCount} + 1 >= 3`, matched: 'FAILED', otherwise: 'NEW' },
      where: eq(bugs.projectId, project),
      actor: 'sweep',
      note: sql`'held by ' || ${bugs.claimedBy}`,
      at: '2026-11-29T00:00:00.000Z',
    });
    expect(Object.fromEntries(moved.map((b) => [b.id, [b.status, b.claimedBy]]))).toEqual({
      [first]: ['NEW', null],
      [last]: ['FAILED', null],
    });
    expect((await historyOf(first)).at(-1)).toMatchObject({
      fromStatus: 'FIXING',
      toStatus: 'NEW',
      actor: 'sweep',
      note: 'held by a1',
    });
    expect((await historyOf(last)).at(-1)).toMatchObject({
      fromStatus: 'FIXING',
      toStatus: 'FAILED',
      note: 'held by a2',
    });
    const alerts = await db.select().from(alertOutbox).where(eq(alertOutbox.projectId, project));
    expect(alerts.map((a) => [a.bugId, a.kind])).toEqual([[last, 'failed']]);
  });

  it('lets one of two concurrent changes of the same bug win; the other is a 409 and writes nothing', async () => {
    const project = uniqueProject('tr');
    const id = await newBug(project, 20);
    const { db } = database.handle;
    const results = await Promise.allSettled([
      moveBug(db, id, 'FIXING', { actor: 'one' }),
      moveBug(db, id, 'IGNORED', { actor: 'two' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toMatchObject({ code: 'invalid_transition' });
    const history = await historyOf(id);
    expect(history).toHaveLength(2);
    expect(history[1]!.toStatus).toBe((won[0] as PromiseFulfilledResult<{ status: string }>).value.status);
  });

  it('sets the fields that follow from the new status', async () => {
    const project = uniqueProject('tr');
    const id = await newBug(project, 30);
    const { db } = database.handle;
    await moveBug(db, id, 'FIXING', {
      actor: 'agent:x',
      set: { claimedBy: 'x', leaseExpiresAt: '2030-01-01T00:00:00.000Z' },
    });
    const reopened = await moveBug(db, id, 'NEW', { actor: 'user', note: 'retry' });
    expect(reopened).toMatchObject({
      status: 'NEW',
      claimedBy: null,
      leaseExpiresAt: null,
      leaseExpiryCount: 0,
    });
    const failed = await moveBug(db, id, 'FAILED', { actor: 'user' });
    expect(failed.status).toBe('FAILED');
    const alerts = await db.select().from(alertOutbox).where(eq(alertOutbox.bugId, id));
    expect(alerts.map((a) => a.kind)).toEqual(['failed']);
  });
});
