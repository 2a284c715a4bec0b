import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FileWriter, openFileWriter } from '../../functions/lib/db-file';
import { openTempDatabase, type TempDatabase } from '../helpers/database';

// The ingest writer thread on a real database file: what the main thread sends it (SQL once
// per text, arguments in one flat list, a long text once per batch) must come back as the same
// rows and store the same values as running the statements one by one would.

let database: TempDatabase;
let writer: FileWriter;
beforeAll(async () => {
  database = await openTempDatabase('file-writer');
  writer = openFileWriter(database.file);
  await writer.run([
    { sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, a TEXT, b TEXT, n INTEGER)', args: [] },
  ]);
});
afterAll(async () => {
  await writer.close();
  database.remove();
});

const notes = async (where: string) =>
  (
    await database.handle.client.execute({
      sql: `SELECT id, a, b, n FROM notes WHERE ${where} ORDER BY id`,
      args: [],
    })
  ).rows.map((row) => ({ ...row }));

describe('the ingest writer thread', () => {
  it('answers each statement its own rows, columns by name, and none for plain writes', async () => {
    const insert = 'INSERT INTO notes (a, b, n) VALUES (?, ?, ?) RETURNING id, a, n';
    const rows = await writer.run([
      { sql: insert, args: ['first', null, 1] },
      { sql: 'UPDATE notes SET n = n + 1 WHERE a = ?', args: ['first'] },
      { sql: insert, args: ['second', 'x', 2] },
      { sql: 'SELECT a, n FROM notes WHERE a IN (?, ?) ORDER BY a', args: ['first', 'second'] },
      { sql: 'SELECT a FROM notes WHERE a = ?', args: ['nobody'] },
    ]);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual([{ id: expect.any(Number), a: 'first', n: 1 }]);
    expect(rows[1]).toEqual([]);
    expect(rows[2]).toEqual([{ id: expect.any(Number), a: 'second', n: 2 }]);
    expect(rows[3]).toEqual([
      { a: 'first', n: 2 },
      { a: 'second', n: 2 },
    ]);
    expect(rows[4]).toEqual([]);
  });

  it('stores a long text bound by several statements of a batch in each of them', async () => {
    const long = `héllo ${'stack line\n'.repeat(20_000)}`;
    const other = `${'z'.repeat(5_000)}"quoted"`;
    await writer.run([
      { sql: 'INSERT INTO notes (a, b, n) VALUES (?, ?, ?)', args: ['long-1', long, 1] },
      { sql: 'INSERT INTO notes (a, b, n) VALUES (?, ?, ?)', args: ['long-2', long, 2] },
      { sql: 'INSERT INTO notes (a, b, n) VALUES (?, ?, ?)', args: [other, long, 3] },
      { sql: 'INSERT INTO notes (a, b, n) VALUES (?, ?, ?)', args: ['long-4', other, 4] },
    ]);
    const stored = await notes("n BETWEEN 1 AND 4 AND (a LIKE 'long-%' OR a LIKE 'zzz%')");
    expect(stored.map((row) => [row.a, row.b])).toEqual([
      ['long-1', long],
      ['long-2', long],
      [other, long],
      ['long-4', other],
    ]);
  });

  it('rolls a failing batch back as a whole and runs the next one, with the SQL it first sent', async () => {
    const insert = 'INSERT INTO notes (id, a, n) VALUES (?, ?, ?)';
    await expect(
      writer.run([
        { sql: insert, args: [1_000, 'kept?', 10] },
        { sql: 'INSERT INTO notes (id, a, n) VALUES (?, ?, ?) -- new text', args: [1_000, 'duplicate', 11] },
      ]),
    ).rejects.toMatchObject({ code: expect.stringContaining('CONSTRAINT') });
    expect(await notes('id = 1000')).toEqual([]);
    await writer.run([
      { sql: 'INSERT INTO notes (id, a, n) VALUES (?, ?, ?) -- new text', args: [1_000, 'second try', 11] },
      { sql: insert, args: [1_001, 'after', 12] },
    ]);
    expect((await notes('id >= 1000')).map((row) => row.a)).toEqual(['second try', 'after']);
  });

  it('fails a batch with SQL that does not prepare, and keeps working', async () => {
    await expect(writer.run([{ sql: 'INSERT INTO no_such_table VALUES (?)', args: [1] }])).rejects.toThrow(
      /no_such_table/,
    );
    const [rows] = await writer.run([
      { sql: 'SELECT count(*) AS n FROM notes WHERE id >= ?', args: [1_000] },
    ]);
    expect(rows).toEqual([{ n: 2 }]);
  });

  it('keeps answering right past thousands of distinct SQL texts, when it starts its ids afresh', async () => {
    const select = (i: number) => ({ sql: `SELECT ? + ${i} AS n`, args: [1] });
    for (let start = 0; start < 5_000; start += 500) {
      const rows = await writer.run(Array.from({ length: 500 }, (_, k) => select(start + k)));
      expect(rows.map((r) => r[0]!.n)).toEqual(Array.from({ length: 500 }, (_, k) => start + k + 1));
    }
    const again = await writer.run([select(3), select(4_999), select(6_000)]);
    expect(again.map((r) => r[0]!.n)).toEqual([4, 5_000, 6_001]);
  });
});
