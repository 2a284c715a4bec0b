import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { canTransition } from '../../functions/lib/vocabulary';
import { INGEST_REOPENS, INGEST_SQL } from '../../functions/services/ingest';
import { alertOutbox, bugs, occurrences, projects, statusHistory } from '../../schema';

/**
 * The ingest hot path writes with fixed SQL text instead of drizzle queries (building them
 * cost more than the writes). These tests hold that text to the drizzle tables, so a column
 * renamed or added in schema/ cannot silently break or bypass the write path.
 */
const tables: Record<string, SQLiteTable> = {
  bugs,
  projects,
  status_history: statusHistory,
  alert_outbox: alertOutbox,
  occurrences,
};

/** Splits at commas outside parentheses and CASE … END. */
function topLevelItems(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  const tokens = list.split(/(\(|\)|,|\bCASE\b|\bEND\b)/);
  for (const token of tokens) {
    if (token === '(' || token === 'CASE') depth++;
    if (token === ')' || token === 'END') depth--;
    if (token === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
    } else current += token;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}

function parseInsert(sql: string) {
  const match = sql.match(
    /INSERT INTO (\w+) \(([^)]*)\)\s*(VALUES \(([\s\S]*?)\)\s*(?:ON CONFLICT|$)|SELECT ([\s\S]*?)\s+FROM )/,
  );
  if (!match) throw new Error(`not an INSERT: ${sql.slice(0, 60)}`);
  const [, table, columns, , values, select] = match;
  return {
    table: table!,
    columns: columns!.split(',').map((c) => c.trim()),
    provided: topLevelItems((values ?? select)!),
  };
}

describe('ingest SQL against the drizzle tables', () => {
  it.each(Object.entries(INGEST_SQL))(
    '%s names real columns, one value each, and every required one',
    (_name, sql) => {
      const insert = parseInsert(sql);
      const table = tables[insert.table];
      expect(table, `table ${insert.table}`).toBeDefined();
      const config = getTableConfig(table!);
      const known = config.columns.map((c) => c.name);
      for (const column of insert.columns) expect(known, `${insert.table}.${column}`).toContain(column);
      expect(new Set(insert.columns).size).toBe(insert.columns.length);
      expect(insert.provided).toHaveLength(insert.columns.length);
      const required = config.columns
        .filter((c) => c.notNull && !c.hasDefault && !(c.primary && c.columnType === 'SQLiteInteger'))
        .map((c) => c.name);
      for (const column of required)
        expect(insert.columns, `${insert.table}.${column} is NOT NULL`).toContain(column);
    },
  );

  it('reopens only where the transition table allows it', () => {
    for (const from of INGEST_REOPENS.from) expect(canTransition(from, INGEST_REOPENS.to)).toBe(true);
  });

  it('updates only columns the bugs table has', () => {
    const set = INGEST_SQL.upsertBug.split('DO UPDATE SET')[1]!.split('RETURNING')[0]!;
    const assigned = topLevelItems(set).map((item) => item.split('=')[0]!.trim());
    const known = getTableConfig(bugs).columns.map((c) => c.name);
    expect(assigned.length).toBeGreaterThan(5);
    for (const column of assigned) expect(known).toContain(column);
    const returning = INGEST_SQL.upsertBug
      .split('RETURNING')[1]!
      .split(',')
      .map((c) => c.trim());
    for (const column of returning) expect(known).toContain(column);
  });
});
