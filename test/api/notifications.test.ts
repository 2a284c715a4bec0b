import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarkReadResultSchema, NotificationPageSchema } from '../../functions/routes/private/notifications';
import { LOOPBACK_TARGETS, Receiver, setAlertSettings, setStatus } from '../alerts/support';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';

// The message centre over the app's own routes (`app.request()`), on a temporary libSQL file.
// Notifications come from the real producers: reports, status changes and the sweep. A local
// HTTP receiver stands in for a project's webhook, so new bugs queue alerts too.

const hook = new Receiver();
let lc: LogCenterHandle & { server: Awaited<ReturnType<typeof startLogCenterApp>>['server'] };

beforeAll(async () => {
  await hook.start();
  lc = await startLogCenterApp({ env: LOOPBACK_TARGETS });
});
afterAll(async () => {
  await lc.stop();
  await hook.stop();
});

async function list(query = '') {
  const res = await lc.api(`/api/v1/notifications${query}`);
  expect(res.status).toBe(200);
  return NotificationPageSchema.parse(await res.json());
}

async function markRead(body: unknown) {
  return lc.api('/api/v1/notifications/read', {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const db = () => lc.server.deps.db;
const unreadInDb = async () =>
  (await db().all<{ n: number }>(sql`SELECT count(*) AS n FROM notifications WHERE read_at IS NULL`))[0]!.n;

async function newBug(project: string, line: number): Promise<number> {
  const res = await lc.report(
    runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: line } }),
  );
  expect(res.status).toBe(200);
  return (await res.json()).id;
}

let heard: string;
let silent: string;
const ids: Record<string, number> = {};

describe('the message centre', () => {
  it('gets a notification for every alert queued, whatever targets the project has', async () => {
    heard = uniqueProject('centre');
    silent = uniqueProject('centre-silent');
    await setAlertSettings(lc, heard, { alert_webhook_url: `${hook.url}/hook` });
    ids.a = await newBug(heard, 1);
    ids.b = await newBug(heard, 2);
    ids.quiet = await newBug(silent, 1);
    await setStatus(lc, ids.quiet, 'FAILED', '<b>gave up</b> after 3 leases');
    await setStatus(lc, ids.a, 'FIXING');
    await setStatus(lc, ids.a, 'PENDING_REVIEW');
    await setStatus(lc, ids.a, 'MERGED');

    const page = await list();
    const mine = page.items.filter((n) => [heard, silent].includes(n.project_id));
    expect(mine.map((n) => [n.kind, n.bug_id])).toEqual([
      ['merged', ids.a],
      ['pr_opened', ids.a],
      ['failed', ids.quiet],
      ['new_bug', ids.b],
      ['new_bug', ids.a],
    ]);
    const failed = mine.find((n) => n.kind === 'failed')!;
    expect(failed).toMatchObject({
      project_id: silent,
      title: `Fix failed #${ids.quiet}: ValueError`,
      read_at: null,
    });
    // Stored as text; the dashboard renders it as text.
    expect(failed.body).toBe("<b>gave up</b> after 3 leases\ninvalid literal for int() with base 10: 'abc'");
    expect(mine.find((n) => n.kind === 'merged')!.title).toBe(`Fix merged #${ids.a}: ValueError`);
    expect(Date.parse(failed.created_at)).not.toBeNaN();
    // The project without a target queued no new-bug alert, so no notification for it either;
    // every outbox row has exactly one notification.
    const [counts] = await db().all<{ outbox: number; centre: number }>(
      sql`SELECT (SELECT count(*) FROM alert_outbox) AS outbox, (SELECT count(*) FROM notifications) AS centre`,
    );
    expect(counts!.centre).toBe(counts!.outbox);
    expect(page.unread_count).toBe(await unreadInDb());
    expect(page.pagination).toEqual({ page: 1, per_page: 20, total: counts!.centre });
  });

  it('pages newest first and filters the unread', async () => {
    const all = await list('?per_page=2');
    expect(all.items).toHaveLength(2);
    const second = await list('?per_page=2&page=2');
    expect(second.items[0]!.id).toBeLessThan(all.items[1]!.id);
    const beyond = await list('?page=999');
    expect(beyond.items).toEqual([]);
    expect(beyond.pagination.total).toBe(all.pagination.total);
    const unread = await list('?unread=true&per_page=100');
    expect(unread.items.every((n) => n.read_at === null)).toBe(true);
    expect(unread.pagination.total).toBe(unread.unread_count);
  });

  it('marks read by ids, counting only the ones that were unread', async () => {
    const before = await list('?per_page=100');
    const [first, second] = before.items;
    const res = await markRead({ ids: [first!.id, second!.id] });
    expect(res.status).toBe(200);
    expect(MarkReadResultSchema.parse(await res.json())).toEqual({
      updated: 2,
      unread_count: before.unread_count - 2,
    });
    const again = await markRead({ ids: [first!.id] });
    expect(await again.json()).toEqual({ updated: 0, unread_count: before.unread_count - 2 });
    const after = await list('?per_page=100');
    const read = after.items.find((n) => n.id === first!.id)!;
    expect(read.read_at).not.toBeNull();
    expect((await list('?unread=true&per_page=100')).items.map((n) => n.id)).not.toContain(first!.id);
  });

  it('refuses unknown ids, naming them, and marks nothing', async () => {
    const before = await unreadInDb();
    const [unread] = (await list('?unread=true')).items;
    const res = await markRead({ ids: [unread!.id, 987_654] });
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.code).toBe('validation_failed');
    expect(typeof error.request_id).toBe('string');
    expect(error.details).toEqual([{ path: 'ids.1', message: 'no notification with id 987654' }]);
    expect(await unreadInDb()).toBe(before);
  });

  it('answers bad bodies with the error envelope', async () => {
    const before = await unreadInDb();
    const bad: unknown[] = [
      {},
      { ids: [] },
      { ids: 1 },
      { ids: ['1'] },
      { ids: [1.5] },
      { ids: [0] },
      { ids: [-3] },
      { ids: [5, 5] },
      { ids: null },
      { all: false },
      { all: 'true' },
      { all: true, ids: [1] },
      { ids: [1], extra: 1 },
      { ids: Array.from({ length: 501 }, (_, i) => i + 1) },
      [],
      'null',
      '"all"',
    ];
    for (const body of bad) {
      const res = await markRead(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      const { error } = await res.json();
      expect(error.code).toBe('validation_failed');
      expect(Array.isArray(error.details)).toBe(true);
    }
    for (const body of ['{"ids": [1,', 'ids=1']) {
      const res = await markRead(body);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({
        code: expect.any(String),
        message: expect.any(String),
      });
    }
    for (const query of ['?unread=yes', '?per_page=0', '?per_page=101', '?page=0', '?page=x']) {
      const res = await lc.api(`/api/v1/notifications${query}`);
      expect(res.status, query).toBe(422);
      expect((await res.json()).error.code).toBe('validation_failed');
    }
    expect(await unreadInDb()).toBe(before);
  });

  it('takes 500 ids in one call', async () => {
    const project = uniqueProject('centre-many');
    const bug = await newBug(project, 1);
    // 500 reminders for one bug, queued the way the sweep queues them: the trigger files each.
    const at = new Date().toISOString();
    await db().run(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
      INSERT INTO alert_outbox (bug_id, project_id, kind, state, attempts, next_attempt_at, created_at, note)
      SELECT ${bug}, ${project}, 'reminder', 'suppressed', 0, ${at}, ${at}, 'test' FROM n`);
    const rows = await db().all<{ id: number }>(
      sql`SELECT id FROM notifications WHERE project_id = ${project} AND kind = 'reminder' ORDER BY id`,
    );
    expect(rows).toHaveLength(500);
    const res = await markRead({ ids: rows.map((r) => r.id) });
    expect(res.status).toBe(200);
    expect((await res.json()).updated).toBe(500);
  });

  it('marks all read once, however many callers ask at the same time', async () => {
    const unread = await unreadInDb();
    expect(unread).toBeGreaterThan(0);
    const answers = await Promise.all(Array.from({ length: 5 }, () => markRead({ all: true })));
    const bodies = await Promise.all(answers.map((a) => a.json()));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(bodies.reduce((sum, b) => sum + b.updated, 0)).toBe(unread);
    expect(bodies.every((b) => b.unread_count === 0)).toBe(true);
    expect((await list()).unread_count).toBe(0);
    expect((await list('?unread=true')).items).toEqual([]);
  });

  it('needs the bearer token', async () => {
    for (const [path, init] of [
      ['/api/v1/notifications', {}],
      ['/api/v1/notifications/read', { method: 'POST', body: '{"all":true}' }],
    ] as const) {
      const none = await lc.fetch(path, { ...init, headers: { 'Content-Type': 'application/json' } });
      expect(none.status).toBe(401);
      expect((await none.json()).error.code).toBe('unauthorized');
      const wrong = await lc.fetch(path, {
        ...init,
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer nope' },
      });
      expect(wrong.status).toBe(401);
    }
  });

  it('is described in the API document', async () => {
    const doc = await (await lc.fetch('/openapi.json')).json();
    expect(doc.paths['/api/v1/notifications'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/api/v1/notifications/read'].post.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Notification', 'NotificationPage', 'MarkNotificationsRead']),
    );
  });

  it('purges read notifications past the retention period with the settled alerts, never unread ones', async () => {
    const project = uniqueProject('centre-old');
    const bug = await newBug(project, 1);
    await setStatus(lc, bug, 'FAILED', 'old');
    await setStatus(lc, bug, 'NEW');
    await setStatus(lc, bug, 'FAILED', 'old again');
    const rows = await db().all<{ id: number }>(
      sql`SELECT id FROM notifications WHERE project_id = ${project} ORDER BY id`,
    );
    expect(rows).toHaveLength(2);
    const old = '2000-01-01T00:00:00.000Z';
    await db().run(sql`UPDATE notifications SET created_at = ${old} WHERE project_id = ${project}`);
    await db().run(sql`UPDATE notifications SET read_at = ${old} WHERE id = ${rows[0]!.id}`);
    const res = await lc.api('/api/v1/admin/sweep', { method: 'POST' });
    expect(res.status).toBe(200);
    expect((await res.json()).notifications_purged).toBe(1);
    const left = await db().all<{ id: number }>(
      sql`SELECT id FROM notifications WHERE project_id = ${project}`,
    );
    expect(left).toEqual([{ id: rows[1]!.id }]);
  });
});
