import { join } from 'node:path';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BugFilters, KEPT_IDS, keepListTotals, listBugs } from '../../functions/services/bugs';
import { startLogCenterApp } from '../helpers/app';
import { openTempDatabase } from '../helpers/database';
import { runtimeReport } from '../helpers/payloads';
import { BugPageSchema, bodyAs, type LogCenterHandle, uniqueProject } from '../helpers/server';

// The bug list keeps each filter combination's total, and the ids a `q` phrase matches within
// field filters, for as long as the list's mark holds (services/bugs.ts, migration 0009). Here
// the real app on a real libSQL file, with its read threads: after every kind of change, made
// through the API or by any other writer of the file, every list must agree with the bugs
// filtered independently of the list's code, on each read thread.

interface StoredBug {
  id: number;
  project_id: string;
  status: string;
  source: string;
  level: string;
  environment: string;
  error_type: string;
  error_message: string;
  occurrence_count: number;
}

let lc: LogCenterHandle;
let side: Database.Database;
const project = uniqueProject('kept');
const other = uniqueProject('kept_other');
let n = 0;

async function report(
  type: string,
  message: string,
  more: Record<string, unknown> = {},
  fingerprint?: string,
) {
  const res = await lc.report(
    runtimeReport(project, {
      fingerprint: [fingerprint ?? `kept-${n++}`],
      error: { type, message, file_path: 'app/kept.py', line_number: 1, stack_trace: [] },
      ...more,
    }),
  );
  const body = (await res.json()) as { id: number };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.id;
}

const stored = () => side.prepare('SELECT * FROM bugs ORDER BY id').all() as StoredBug[];

type InsertedBug = Partial<Omit<StoredBug, 'id' | 'occurrence_count'>> & {
  fingerprint: string;
  last_seen?: string;
};

/** A bug written straight into the file, as any other writer could: the list's fields, the rest fixed. */
function insertBug(database: Database.Database, bug: InsertedBug) {
  const b = {
    project_id: 'p',
    source: 'runtime',
    level: 'ERROR',
    environment: 'production',
    status: 'NEW',
    error_type: 'TimeoutError',
    error_message: 'slow',
    last_seen: '2026-01-01T00:00:00.000Z',
    ...bug,
  };
  database
    .prepare(`INSERT INTO bugs (project_id, fingerprint, source, level, environment, status, error_type,
      error_message, stack_trace, context, first_seen, last_seen, status_changed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', '{}', '2026-01-01T00:00:00.000Z', ?, '2026-01-01T00:00:00.000Z')`)
    .run(
      b.project_id,
      b.fingerprint,
      b.source,
      b.level,
      b.environment,
      b.status,
      b.error_type,
      b.error_message,
      b.last_seen,
    );
}
const version = () =>
  (side.prepare('SELECT version FROM bug_list_version').get() as { version: number }).version;

/** The filters under test: each kind of plan, with and without `q`. */
const FILTERS: BugFilters[] = [
  {},
  { project_id: project },
  { project_id: project, status: ['NEW'] },
  { project_id: project, status: ['NEW', 'IGNORED'], level: 'WARNING' },
  { environment: 'staging' },
  { source: 'cicd' },
  { q: 'Timeout' },
  { project_id: project, q: 'Timeout' },
  { project_id: project, q: 'worker pool' },
  { project_id: other, q: 'Timeout' },
  { status: ['NEW'], q: 'Kept' },
  { project_id: project, q: 'ab' },
];

/** What a filter must find, written apart from the list's SQL: ASCII text, so case folds simply. */
function expected(f: BugFilters, bugs: StoredBug[]): StoredBug[] {
  const q = f.q?.toLowerCase();
  return bugs.filter(
    (b) =>
      (!f.project_id || b.project_id === f.project_id) &&
      (!f.status || f.status.includes(b.status)) &&
      (!f.source || b.source === f.source) &&
      (!f.level || b.level === f.level) &&
      (!f.environment || b.environment === f.environment) &&
      (!q || b.error_type.toLowerCase().includes(q) || b.error_message.toLowerCase().includes(q)),
  );
}

const pathOf = (f: BugFilters) => {
  const params = new URLSearchParams({ page_size: '200' });
  for (const [key, value] of Object.entries(f))
    params.set(key, Array.isArray(value) ? value.join(',') : value);
  return `/api/v1/bugs?${params}`;
};

/**
 * Every filter, read four times (the read threads take requests in turn, so each thread
 * answers from what it kept): total, ids and counts as the file holds them now.
 */
async function everyListAgrees(step: string) {
  const bugs = stored();
  for (const f of FILTERS) {
    const want = expected(f, bugs);
    for (let read = 0; read < 4; read++) {
      const page = await bodyAs(BugPageSchema, await lc.api(pathOf(f)));
      const label = `${step}: ${JSON.stringify(f)}, read ${read + 1}`;
      expect(page.total, label).toBe(want.length);
      expect(
        page.items.map((b) => b.id).sort((a, b) => a - b),
        label,
      ).toEqual(want.map((b) => b.id));
      for (const item of page.items)
        expect(item.occurrence_count, label).toBe(want.find((b) => b.id === item.id)?.occurrence_count);
    }
  }
}

beforeAll(async () => {
  lc = await startLogCenterApp();
  side = new Database(join(lc.dataDir, 'log-center.db'));
  await report('TimeoutError', 'upstream timeout after 30 s');
  await report('KeptError', 'worker pool exhausted', { level: 'WARNING' });
  await report('ValueError', 'abc is not a number', { environment: 'staging' });
  await report('TimeoutError', 'deploy step timed out', { source: 'cicd' });
  await report('ConnectionError', 'Timeout while reading from cache', { level: 'WARNING' });
  const otherRes = await lc.report(
    runtimeReport(other, {
      fingerprint: ['kept-other'],
      error: {
        type: 'TimeoutError',
        message: 'elsewhere',
        file_path: 'x.py',
        line_number: 1,
        stack_trace: [],
      },
    }),
  );
  expect(otherRes.status).toBe(200);
});
afterAll(async () => {
  side?.close();
  await lc.stop();
});

describe('the bug list keeps totals and matches while they hold', () => {
  it('answers every filter exactly, and again after a report that only deduplicates, which keeps the mark', async () => {
    await everyListAgrees('first reads');
    const before = version();
    await report('TimeoutError', 'upstream timeout after 30 s', {}, 'kept-0');
    await report('TimeoutError', 'upstream timeout after 30 s', {}, 'kept-0');
    expect(version()).toBe(before);
    // The counts moved (pages are read fresh); the totals and matches did not.
    expect(stored().find((b) => b.id === 1)?.occurrence_count).toBe(3);
    await everyListAgrees('after deduplicating reports');
  });

  it('counts a new bug on top of what it kept, found by LIKE before the search index takes it and by the index after', async () => {
    const before = version();
    await report('TimeoutError', 'a fresh timeout in the worker pool');
    expect(version()).toBe(before);
    await everyListAgrees('a new bug');
  });

  it('counts on top the bugs another writer of the file adds, whatever their fields', async () => {
    const rows: InsertedBug[] = [
      {
        project_id: project,
        fingerprint: 'side-1',
        level: 'WARNING',
        error_type: 'KeptTimeout',
        error_message: 'in the worker pool again',
      },
      {
        project_id: other,
        fingerprint: 'side-2',
        source: 'cicd',
        environment: 'staging',
        error_type: 'TIMEOUTERROR',
        error_message: 'upper case, other project',
      },
      {
        project_id: project,
        fingerprint: 'side-3',
        source: 'cicd',
        environment: 'staging',
        error_type: 'ValueError',
        error_message: 'ab ab ab',
      },
    ];
    for (const [i, row] of rows.entries()) {
      insertBug(side, { ...row, last_seen: new Date(Date.now() + i).toISOString() });
      await everyListAgrees(`added by another writer: ${row.fingerprint}`);
    }
  });

  it('follows a change of status through the API', async () => {
    const [first] = stored();
    const res = await lc.api(`/api/v1/bugs/${first!.id}/status`, {
      method: 'PUT',
      body: JSON.stringify({ status: 'IGNORED', note: 'not ours' }),
    });
    expect(res.status).toBe(200);
    await everyListAgrees('a status change');
  });

  it('follows edits and deletes that another writer of the file makes', async () => {
    const bugs = stored();
    const ours = bugs.filter((b) => b.project_id === project);
    const edits = [
      `UPDATE bugs SET error_message = 'renamed: no longer matching' WHERE id = ${ours[0]!.id}`,
      `UPDATE bugs SET error_type = 'KeptTimeoutError' WHERE id = ${ours[2]!.id}`,
      `UPDATE bugs SET level = 'WARNING' WHERE id = ${ours[3]!.id}`,
      `UPDATE bugs SET environment = 'staging' WHERE id = ${ours[1]!.id}`,
      `UPDATE bugs SET source = 'cicd' WHERE id = ${ours[4]!.id}`,
      `UPDATE bugs SET project_id = '${other}' WHERE id = ${ours[5]!.id}`,
      `DELETE FROM bugs WHERE id = ${ours[3]!.id}`,
    ];
    for (const edit of edits) {
      const before = version();
      side.exec(edit);
      expect(version(), edit).toBe(before + 1);
      await everyListAgrees(edit);
    }
    // Ids are not AUTOINCREMENT: once the newest bug is deleted, the next bug takes its id.
    const newest = side.prepare('SELECT max(id) AS id FROM bugs').get() as { id: number };
    side.exec(`DELETE FROM bugs WHERE id = ${newest.id}`);
    await everyListAgrees('the newest bug deleted');
    insertBug(side, {
      project_id: project,
      fingerprint: 'reused',
      error_message: 'took an old id',
      last_seen: '2026-01-02T00:00:00.000Z',
    });
    expect((side.prepare('SELECT max(id) AS id FROM bugs').get() as { id: number }).id).toBe(newest.id);
    await everyListAgrees('a bug with the id of a deleted one');
  });
});

describe('the list mark (migration 0009)', () => {
  it('moves on a bug deleted and on a filtered field, never on a bug added or what a deduplicating report writes', async () => {
    const db = await openTempDatabase('list-mark');
    try {
      const file = new Database(db.file);
      const mark = () =>
        (file.prepare('SELECT version FROM bug_list_version').get() as { version: number }).version;
      insertBug(file, { fingerprint: 'a' });
      expect(mark()).toBe(0);
      // What a report that deduplicates writes, status included, unchanged.
      file.exec(`UPDATE bugs SET occurrence_count = occurrence_count + 1, last_seen = 'y', version = '1.2',
        commit_hash = 'abc1234', status = status, status_changed_at = status_changed_at, stack_trace = '["x"]',
        context = '{"a":1}' WHERE id = 1`);
      expect(mark()).toBe(0);
      const fields = { project_id: 'q', status: 'FIXING', source: 'cicd', level: 'WARNING' };
      let expectedMark = 0;
      for (const [column, value] of Object.entries({
        ...fields,
        environment: 'staging',
        error_type: 'F',
        error_message: 'n',
      })) {
        file.prepare(`UPDATE bugs SET ${column} = ? WHERE id = 1`).run(value);
        expect(mark(), column).toBe(++expectedMark);
        file.prepare(`UPDATE bugs SET ${column} = ? WHERE id = 1`).run(value);
        expect(mark(), `${column} set to what it was`).toBe(expectedMark);
      }
      file.exec('DELETE FROM bugs WHERE id = 1');
      expect(mark()).toBe(expectedMark + 1);
      file.close();
    } finally {
      db.remove();
    }
  });

  it('is kept per connection: two stores at the same mark keep their own totals and matches', async () => {
    const [a, b] = [await openTempDatabase('list-kept-a'), await openTempDatabase('list-kept-b')];
    try {
      const insert = (file: string, rows: [string, string][]) => {
        const database = new Database(file);
        for (const [fingerprint, status] of rows) insertBug(database, { fingerprint, status });
        database.close();
      };
      // The same number of writes, so the same mark, but different bugs.
      insert(a.file, [
        ['1', 'NEW'],
        ['2', 'NEW'],
        ['3', 'NEW'],
      ]);
      insert(b.file, [
        ['1', 'NEW'],
        ['2', 'FAILED'],
        ['3', 'FAILED'],
      ]);
      const query = { page: 1, page_size: 50, sort: 'last_seen', order: 'desc' } as const;
      for (const filters of [{ status: ['NEW'] }, { project_id: 'p', status: ['NEW'], q: 'Timeout' }]) {
        for (let round = 0; round < 2; round++) {
          const onA = await listBugs(keepListTotals(a.handle.db), { ...query, ...filters });
          const onB = await listBugs(keepListTotals(b.handle.db), { ...query, ...filters });
          expect(onA.total, JSON.stringify(filters)).toBe(3);
          expect(onB.total, JSON.stringify(filters)).toBe(1);
          expect(onB.items.map((bug) => bug.fingerprint)).toEqual(['1']);
        }
      }
    } finally {
      a.remove();
      b.remove();
    }
  });

  it('keeps the ids of at most KEPT_IDS matches, and pages a larger match set the usual way', async () => {
    const db = await openTempDatabase('list-kept-many');
    try {
      const database = new Database(db.file);
      const many = KEPT_IDS + 200;
      database.exec(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${many})
        INSERT INTO bugs (project_id, fingerprint, source, level, environment, status, error_type, error_message,
          stack_trace, context, first_seen, last_seen, status_changed_at)
        SELECT 'p', 'f' || i, 'runtime', 'ERROR', 'production', 'NEW', 'TimeoutError', 'slow ' || i, '[]', '{}',
          printf('2026-01-01T00:%02d:%02d.000Z', i / 60 % 60, i % 60), printf('2026-01-01T%02d:%02d:00.000Z', i / 60 % 24, i % 60), 'x'
        FROM k`);
      database.close();
      const query = {
        project_id: 'p',
        q: 'Timeout',
        page_size: 100,
        sort: 'last_seen',
        order: 'desc',
      } as const;
      const fresh = await listBugs(db.handle.db, { ...query, page: 3 });
      expect(fresh.items).toHaveLength(100);
      const kept = keepListTotals(db.handle.db);
      for (let round = 0; round < 2; round++) {
        const page = await listBugs(kept, { ...query, page: 3 });
        expect(page.total).toBe(many);
        expect(page.items.map((bug) => bug.id)).toEqual(fresh.items.map((bug) => bug.id));
      }
    } finally {
      db.remove();
    }
  });
});
