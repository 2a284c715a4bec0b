import { join } from 'node:path';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBugs } from '../../functions/services/bugs';
import { indexNewBugsStatements } from '../../functions/services/search-index';
import { startLogCenterApp } from '../helpers/app';
import { openTempDatabase } from '../helpers/database';
import { runtimeReport } from '../helpers/payloads';
import { BugPageSchema, bodyAs, type LogCenterHandle, uniqueProject } from '../helpers/server';

// `q` on the real app and a real libSQL file: the bug list reads through the read thread, the
// search through the trigram index (migrations 0005, 0008) for 3 characters or more, LIKE below
// that and for bugs newer than the index.

let lc: LogCenterHandle;
const project = uniqueProject('search');
let n = 0;

/** Reports one bug with this type and message (its own fingerprint) and answers its id. */
async function bug(type: string, message: string, projectId = project): Promise<number> {
  const res = await lc.report(
    runtimeReport(projectId, {
      fingerprint: [`search-${n++}`],
      error: { type, message, file_path: 'app/search.py', line_number: 1, stack_trace: [] },
    }),
  );
  const body = (await res.json()) as { id: number };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.id;
}

const search = async (q: string, more = '') => {
  const res = await lc.api(`/api/v1/bugs?project_id=${project}&q=${encodeURIComponent(q)}${more}`);
  expect(res.status, `q=${q}`).toBe(200);
  return bodyAs(BugPageSchema, res);
};
/** The ids `q` finds, after checking the page holds every match (all fit in one page). */
const ids = async (q: string) => {
  const page = await search(q);
  expect(page.items).toHaveLength(page.total);
  return page.items.map((b) => b.id).sort((a, b) => a - b);
};

type Seeded = 'timeout' | 'value' | 'quote' | 'star' | 'dash' | 'percent' | 'sql' | 'cjk' | 'german';
const ids_ = {} as Record<Seeded, number>;
beforeAll(async () => {
  lc = await startLogCenterApp();
  ids_.timeout = await bug('ConnectionError', 'Connection TIMEOUT while reading from db-7');
  ids_.value = await bug('ValueError', "invalid literal for int() with base 10: 'abc'");
  ids_.quote = await bug('RuntimeError', 'user said "hi" then left');
  ids_.star = await bug('GlobError', 'pattern a*b matched nothing; NEAR(x y) is not a query');
  ids_.dash = await bug('FlagError', 'unknown flag -x-verbose: see --help');
  ids_.percent = await bug('CpuError', 'CPU at 100% for 5 minutes, load_avg high');
  ids_.sql = await bug('SqlError', 'near "\'": syntax error in \'; DROP TABLE bugs; --');
  ids_.cjk = await bug('数据库错误', '数据库连接超时：无法访问主机');
  ids_.german = await bug('ÜberlaufFehler', 'Straße überlastet: ÄPFEL und Öl');
  // These tests read the index: new bugs are found by LIKE until the indexer takes them a
  // moment after their write (the test 'finds new bugs at once' covers that window).
  const side = new Database(join(lc.dataDir, 'log-center.db'));
  try {
    const mark = () =>
      (side.prepare('SELECT indexed_through AS n FROM bug_search_state').get() as { n: number }).n;
    const deadline = Date.now() + 5_000;
    while (mark() < ids_.german) {
      if (Date.now() > deadline) throw new Error('the search indexer did not take the new bugs within 5 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    side.close();
  }
});
afterAll(() => lc.stop());

describe('q: substring search in error type and message', () => {
  it('finds a substring anywhere in the message or the type, ignoring ASCII case', async () => {
    expect(await ids('timeout while')).toEqual([ids_.timeout]);
    expect(await ids('connection timeout')).toEqual([ids_.timeout]);
    expect(await ids('alueErr')).toEqual([ids_.value]);
    expect(await ids('VALUEERROR')).toEqual([ids_.value]);
    expect(await ids('with base 10')).toEqual([ids_.value]);
    expect(await ids('no such text anywhere')).toEqual([]);
  });

  it('does not match across the type and the message', async () => {
    // "ConnectionError" + "Connection TIMEOUT": "Error Connection" is in neither column.
    expect(await ids('Error Connection')).toEqual([]);
  });

  it('searches Chinese text, with three characters or more and with fewer', async () => {
    expect(await ids('连接超时')).toEqual([ids_.cjk]);
    expect(await ids('据库错')).toEqual([ids_.cjk]);
    expect(await ids('超时')).toEqual([ids_.cjk]);
    expect(await ids('库')).toEqual([ids_.cjk]);
    expect(await ids('连接失败')).toEqual([]);
  });

  it('ignores the case of non-ASCII letters from three characters on, and keeps accents apart', async () => {
    expect(await ids('äpfel')).toEqual([ids_.german]);
    expect(await ids('überlauf')).toEqual([ids_.german]);
    expect(await ids('STRASSE')).toEqual([]);
    expect(await ids('uberlast')).toEqual([]);
    // Below three characters the LIKE fallback folds ASCII letters only.
    expect(await ids('Öl')).toEqual([ids_.german]);
  });

  it('treats query syntax and quotes as plain text', async () => {
    expect(await ids('"hi"')).toEqual([ids_.quote]);
    expect(await ids('said "hi')).toEqual([ids_.quote]);
    expect(await ids('"')).toEqual([ids_.quote, ids_.sql].sort((a, b) => a - b));
    expect(await ids('hi" OR "abc')).toEqual([]);
    expect(await ids('a*b')).toEqual([ids_.star]);
    expect(await ids('NEAR(x y)')).toEqual([ids_.star]);
    expect(await ids('NEAR(literal base)')).toEqual([]);
    expect(await ids('-x-verbose')).toEqual([ids_.dash]);
    expect(await ids('--help')).toEqual([ids_.dash]);
    expect(await ids('message:timeout')).toEqual([]);
    expect(await ids('error_message:timeout')).toEqual([]);
    expect(await ids('timeout*')).toEqual([]);
    expect(await ids('^connection')).toEqual([]);
    expect(await ids('(x y)')).toEqual([ids_.star]);
    expect(await ids('*')).toEqual([ids_.star]);
    expect(await ids('-')).toEqual([ids_.timeout, ids_.dash, ids_.sql]);
  });

  it('treats LIKE wildcards and SQL quotes as plain text', async () => {
    expect(await ids('100%')).toEqual([ids_.percent]);
    expect(await ids('%')).toEqual([ids_.percent]);
    expect(await ids('_')).toEqual([ids_.percent]);
    expect(await ids('load_avg')).toEqual([ids_.percent]);
    expect(await ids('load%avg')).toEqual([]);
    expect(await ids("'; DROP TABLE bugs; --")).toEqual([ids_.sql]);
    expect(await ids("'")).toEqual([ids_.value, ids_.sql].sort((a, b) => a - b));
    expect(await ids('\\')).toEqual([]);
    // The store is intact.
    expect((await search('')).total).toBe(Object.keys(ids_).length);
  });

  it('answers odd input with a page, never an error; U+0000 matches nothing', async () => {
    for (const q of ['\u0000', 'a\u0000b', '\u0000\u0000\u0000x', '  ', '\t\n', '😀😀😀', 'x'.repeat(200)]) {
      const page = await search(q);
      expect(page.total).toBe(0);
    }
    const long = await lc.api(`/api/v1/bugs?q=${'x'.repeat(201)}`);
    expect(long.status).toBe(422);
    expect((await long.json()).error.code).toBe('validation_failed');
  });

  it('combines with the other filters, pages and counts the total exactly', async () => {
    const other = uniqueProject('search-other');
    await bug('ConnectionError', 'Connection TIMEOUT elsewhere', other);
    const mine = await search('connection timeout');
    expect(mine.total).toBe(1);
    const theirs = await bodyAs(
      BugPageSchema,
      await lc.api(`/api/v1/bugs?project_id=${other}&q=${encodeURIComponent('TIMEOUT')}`),
    );
    expect(theirs.items.map((b) => b.project_id)).toEqual([other]);
    const everywhere = await bodyAs(BugPageSchema, await lc.api(`/api/v1/bugs?q=TIMEOUT%20elsewhere`));
    expect(everywhere.total).toBe(1);
    const paged = await search('Error', '&page_size=2&page=2&sort=first_seen&order=asc');
    expect(paged.total).toBe(7);
    expect(paged.items.map((b) => b.id)).toEqual([ids_.quote, ids_.star]);
    expect((await search('Error', '&status=FIXING')).total).toBe(0);
    expect((await search('Error', '&page=6&page_size=2')).items).toEqual([]);
  });

  it('finds new bugs at once, and a report that deduplicates leaves the search as it was', async () => {
    const id = await bug('FreshError', 'brand new failure mode');
    expect(await ids('new failure')).toEqual([id]);
    const again = await lc.report(
      runtimeReport(project, {
        fingerprint: [`search-${n - 1}`],
        error: {
          type: 'FreshError',
          message: 'brand new failure mode',
          file_path: 'app/search.py',
          line_number: 1,
          stack_trace: [],
        },
      }),
    );
    expect(((await again.json()) as { id: number }).id).toBe(id);
    const page = await search('new failure');
    expect(page.items.map((b) => [b.id, b.occurrence_count])).toEqual([[id, 2]]);
    // Found at once by LIKE above the index's mark; the index itself takes it a moment later.
    const side = new Database(join(lc.dataDir, 'log-center.db'));
    try {
      const indexed = () =>
        side
          .prepare('SELECT rowid AS id FROM bug_search WHERE bug_search MATCH ?')
          .all('"brand new failure"')
          .map((r) => (r as { id: number }).id);
      await expect.poll(indexed, { timeout: 5_000 }).toEqual([id]);
    } finally {
      side.close();
    }
    expect(await ids('new failure')).toEqual([id]);
  });
});

describe('the search index on the database file', () => {
  it('is not touched by reports that deduplicate', async () => {
    // A trigger with the search triggers' column list records every update SQLite would fire
    // them for; deduplicating reports must fire none.
    const file = join(lc.dataDir, 'log-center.db');
    const side = new Database(file);
    side.exec(`CREATE TABLE search_fired (id INTEGER);
      CREATE TRIGGER search_fired_probe AFTER UPDATE OF error_type, error_message ON bugs
      BEGIN INSERT INTO search_fired VALUES (NEW.id); END;`);
    try {
      const id = await bug('ProbeError', 'counted, not retitled');
      for (let i = 0; i < 3; i++) {
        const res = await lc.report(
          runtimeReport(project, {
            fingerprint: [`search-${n - 1}`],
            error: {
              type: 'ProbeError',
              message: 'counted, not retitled',
              file_path: 'app/search.py',
              line_number: 1,
              stack_trace: [],
            },
          }),
        );
        expect(((await res.json()) as { id: number }).id).toBe(id);
      }
      const value = (sql: string, ...args: unknown[]) => (side.prepare(sql).get(...args) as { n: number }).n;
      expect(value('SELECT count(*) AS n FROM search_fired')).toBe(0);
      expect(value('SELECT occurrence_count AS n FROM bugs WHERE id = ?', id)).toBe(4);
      // The index agrees with the bugs it indexes.
      side.exec(`INSERT INTO bug_search (bug_search) VALUES ('integrity-check')`);
    } finally {
      side.exec('DROP TRIGGER search_fired_probe; DROP TABLE search_fired;');
      side.close();
    }
  });

  it('indexes bugs stored before the migration (backfill), follows edits and deletes, and takes new bugs after their write', async () => {
    const db = await openTempDatabase('search-backfill');
    try {
      const side = new Database(db.file);
      // The store as it was before migration 0005: no search table, no triggers.
      side.exec(`DROP TRIGGER bugs_search_update; DROP TRIGGER bugs_search_delete;
        DROP TABLE bug_search; DROP TABLE bug_search_state;`);
      const insert =
        side.prepare(`INSERT INTO bugs (project_id, fingerprint, source, level, environment, status,
        error_type, error_message, stack_trace, context, first_seen, last_seen, status_changed_at)
        VALUES ('p', ?, 'runtime', 'ERROR', 'production', 'NEW', ?, ?, '[]', '{}', 'x', 'x', 'x')`);
      insert.run('a', 'OldError', 'stored before the index existed');
      insert.run('b', 'OtherError', 'also old');
      // Bugs are never deleted in use; the newest one stays so that ids keep growing here too.
      insert.run('z', 'LastError', 'the newest old bug');
      const { readFileSync } = await import('node:fs');
      const statements = (file: string) =>
        readFileSync(join(__dirname, '../../schema/migrations', file), 'utf8')
          .split('--> statement-breakpoint')
          .filter((s) => !/\bINDEX\b/.test(s.replace(/^--.*$/gm, '')));
      for (const file of ['0005_bug_search.sql', '0008_bug_search_deferred.sql'])
        for (const statement of statements(file)) side.exec(statement);
      const found = (q: string) =>
        side
          .prepare(`SELECT rowid AS id FROM bug_search WHERE bug_search MATCH ? ORDER BY rowid`)
          .all(`"${q}"`)
          .map((r) => (r as { id: number }).id);
      const mark = () =>
        (side.prepare('SELECT indexed_through AS n FROM bug_search_state').get() as { n: number }).n;
      expect(found('before the index')).toEqual([1]);
      expect(mark()).toBe(3);
      side.prepare(`UPDATE bugs SET error_message = 'retitled now' WHERE id = 1`).run();
      expect(found('before the index')).toEqual([]);
      expect(found('retitled')).toEqual([1]);
      side.prepare('DELETE FROM bugs WHERE id = 2').run();
      expect(found('also old')).toEqual([]);
      side.exec(`INSERT INTO bug_search (bug_search) VALUES ('integrity-check')`);

      // A new bug is not in the index until the indexer runs; an edit before that leaves the
      // index alone (it has no row for the bug) and the indexer takes the current text.
      insert.run('c', 'NewError', 'written after the index');
      side.prepare(`UPDATE bugs SET error_message = 'edited before indexing' WHERE id = 4`).run();
      expect(found('after the index')).toEqual([]);
      expect(found('edited before')).toEqual([]);
      side.exec(`INSERT INTO bug_search (bug_search) VALUES ('integrity-check')`);
      for (const { sql } of indexNewBugsStatements) side.exec(sql);
      expect(found('edited before')).toEqual([4]);
      expect(found('after the index')).toEqual([]);
      expect(mark()).toBe(4);
      // Run again with nothing new: nothing is indexed twice.
      for (const { sql } of indexNewBugsStatements) side.exec(sql);
      expect(found('edited before')).toEqual([4]);
      side.exec(`INSERT INTO bug_search (bug_search) VALUES ('integrity-check')`);
      side.close();
    } finally {
      db.remove();
    }
  });
});

describe('q: both ways of finding a page give the same bugs', () => {
  // 30,000 bugs, then indexed: a filter that matches many of them makes the list walk the sort
  // order and test `q` on each row (LIKE, for text LIKE agrees on, or the index's result
  // otherwise); one that matches few starts from the index; a `q` within filters that hold at
  // most 10,000 bugs (one status here) is found in one pass that gives the total and the page.
  // The expected pages are computed here from the same rows.
  const BUGS = 30_000;
  const types = ['TimeoutError', 'ValueError', 'ÜberlaufFehler', 'KeyError'];
  const messages = ['connection timeout to db-7', 'invalid literal', 'straße überlastet', 'missing key'];
  const statuses = ['NEW', 'FIXING', 'FAILED'];
  const rowOf = (i: number) => ({
    id: i + 1,
    type: types[i % types.length]!,
    message: `${messages[(i * 7) % messages.length]} #${i}`,
    status: statuses[i % statuses.length]!,
    count: (i * 7919) % 997,
  });
  const rows = Array.from({ length: BUGS }, (_, i) => rowOf(i));
  let db: Awaited<ReturnType<typeof openTempDatabase>>;

  beforeAll(async () => {
    db = await openTempDatabase('search-plans');
    const side = new Database(db.file);
    const insert = side.prepare(`INSERT INTO bugs (id, project_id, fingerprint, source, level, environment,
      status, error_type, error_message, stack_trace, context, occurrence_count, first_seen, last_seen,
      status_changed_at) VALUES (?, 'p', ?, 'runtime', 'ERROR', 'production', ?, ?, ?, '[]', '{}', ?, 'x', ?, 'x')`);
    side.exec('BEGIN');
    for (const r of rows)
      insert.run(r.id, `plans-${r.id}`, r.status, r.type, r.message, r.count, String(r.id).padStart(6, '0'));
    side.exec('COMMIT');
    for (const { sql } of indexNewBugsStatements) side.exec(sql);
    side.close();
  });
  afterAll(() => db.remove());

  const page = (q: string, more: Partial<Parameters<typeof listBugs>[1]> = {}) =>
    listBugs(db.handle.db, { page: 1, page_size: 10, sort: 'occurrence_count', order: 'desc', q, ...more });
  /** What the page must hold: case folded as the index folds it (every letter with a case). */
  const expected = (
    q: string,
    status?: string[],
    sort: 'occurrence_count' | 'last_seen' = 'occurrence_count',
    pageNumber = 1,
  ) => {
    const matching = rows.filter(
      (r) =>
        (r.type.toLowerCase().includes(q.toLowerCase()) ||
          r.message.toLowerCase().includes(q.toLowerCase())) &&
        (!status || status.includes(r.status)),
    );
    const key = (r: (typeof rows)[number]) => (sort === 'occurrence_count' ? r.count : r.id);
    matching.sort((a, b) => key(b) - key(a) || b.id - a.id);
    return {
      total: matching.length,
      ids: matching.slice((pageNumber - 1) * 10, pageNumber * 10).map((r) => r.id),
    };
  };

  it.each([
    ['timeout', ['NEW', 'FIXING']],
    ['TIMEOUT TO', ['FAILED']],
    ['#12', undefined],
    ['überlast', ['NEW']],
    ['ÜBERLAUF', ['NEW', 'FAILED']],
    ['missing key #29', undefined],
    ['key #2', ['FAILED']],
  ] as const)('q=%s, status=%s', async (q, status) => {
    for (const sort of ['occurrence_count', 'last_seen'] as const) {
      for (const pageNumber of [1, 3]) {
        const got = await page(q, { sort, status: status ? [...status] : undefined, page: pageNumber });
        const want = expected(q, status ? [...status] : undefined, sort, pageNumber);
        expect(
          { total: got.total, ids: got.items.map((b) => b.id) },
          `sort=${sort} page=${pageNumber}`,
        ).toEqual(want);
      }
    }
    // The same within the project, which holds every bug here.
    const inProject = await page(q, { project_id: 'p', status: status ? [...status] : undefined });
    expect(inProject.total).toBe(expected(q, status ? [...status] : undefined).total);
  });
});
