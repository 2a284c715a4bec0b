import type { D1Database } from '@cloudflare/workers-types';
import type { Client, InValue } from '@libsql/client';

export type SqlValue = string | number | null;
export interface Statement {
  sql: string;
  args: SqlValue[];
}
export type Rows = Record<string, unknown>[];

/**
 * Runs statements in order as one atomic batch and answers the rows each returned.
 * The ingest hot path uses this with fixed SQL text instead of building drizzle queries
 * per report: query building cost more than the writes themselves.
 */
export type BatchRunner = (statements: Statement[]) => Promise<Rows[]>;

export function libsqlRunner(client: Client): BatchRunner {
  return async (statements) => {
    const results = await client.batch(
      statements.map((s) => ({ sql: s.sql, args: s.args as InValue[] })),
      'write',
    );
    return results.map((rs) => rs.rows as unknown as Rows);
  };
}

export function d1Runner(d1: D1Database): BatchRunner {
  return async (statements) => {
    const results = await d1.batch(statements.map((s) => d1.prepare(s.sql).bind(...s.args)));
    return results.map((r) => (r.results ?? []) as Rows);
  };
}
