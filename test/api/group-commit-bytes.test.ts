import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LibsqlHandle } from '../../functions/lib/db-libsql';
import { libsqlRunner } from '../../functions/lib/sql-batch';
import { defaultGroupCommit, GroupCommitSink, heldBytes } from '../../functions/services/group-commit';
import { writeReports } from '../../functions/services/ingest';
import { type NormalisedReport, normaliseReport } from '../../functions/services/report';
import { openTempDatabase, type TempDatabase } from '../helpers/database';
import { runtimeReport } from '../helpers/payloads';
import { uniqueProject } from '../helpers/server';

/**
 * A batch is copied to the writer thread and bound into SQLite whole, so the group commit
 * cuts batches by the bytes their reports hold (maxBatchBytes) as well as by count: a burst of
 * ~200 KiB reports is written as several batches of a few MiB, never one of the whole queue.
 */
let database: TempDatabase;
let handle: LibsqlHandle;
beforeAll(async () => {
  database = await openTempDatabase('group-commit-bytes');
  handle = database.handle;
});
afterAll(() => database.remove());

/** A report with a stack of `lines` lines of about 1 KiB each, at its own line number. */
function bigReport(project: string, line: number, lines: number): NormalisedReport {
  const base = runtimeReport(project);
  const outcome = normaliseReport(
    {
      ...base,
      error: {
        ...base.error,
        line_number: line,
        stack_trace: Array.from({ length: lines }, (_, i) => `frame ${i} ${'x'.repeat(1000)}`),
      },
    },
    new Date().toISOString(),
  );
  if (!outcome.ok) throw new Error('fixture did not validate');
  return outcome.report;
}

describe('group commit batch size in bytes', () => {
  it('keeps a few MiB per batch by default', () => {
    expect(defaultGroupCommit.maxBatchBytes).toBe(4 * 1024 * 1024);
    expect(defaultGroupCommit.maxBatchBytes).toBeLessThan(defaultGroupCommit.maxQueueBytes);
  });

  it('splits a burst of big reports into batches within maxBatchBytes, and stores every report', async () => {
    const project = uniqueProject();
    const batchSizes: number[] = [];
    const batchBytes: number[] = [];
    const maxBatchBytes = 1024 * 1024;
    const sink = new GroupCommitSink(
      libsqlRunner(handle.client),
      { maxBatch: 256, maxBatchBytes, maxQueueBytes: 64 * 1024 * 1024 },
      undefined,
      (run, reports, cache) => {
        batchSizes.push(reports.length);
        batchBytes.push(reports.reduce((sum, report) => sum + heldBytes(report), 0));
        return writeReports(run, reports, cache);
      },
    );
    const reports = Array.from({ length: 24 }, (_, i) => bigReport(project, i, 190));
    const perReport = heldBytes(reports[0]!);
    expect(perReport).toBeGreaterThan(190 * 1000);
    const results = await Promise.all(reports.map((report) => sink.submit(report)));
    expect(results.every((r) => r.outcome === 'new')).toBe(true);
    // The first report is written alone (the writer was idle); the rest queue behind it and
    // are cut by bytes: no batch over the bound, and more than one batch for what queued.
    expect(batchSizes.reduce((a, b) => a + b, 0)).toBe(24);
    expect(Math.max(...batchBytes)).toBeLessThanOrEqual(maxBatchBytes);
    expect(Math.max(...batchSizes)).toBe(Math.floor(maxBatchBytes / perReport));
    const stored = await handle.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM occurrences o JOIN bugs b ON b.id = o.bug_id WHERE b.project_id = ${project}`,
    );
    expect(stored[0]!.n).toBe(24);
  });

  it('writes a report bigger than maxBatchBytes alone rather than never', async () => {
    const project = uniqueProject();
    const batchSizes: number[] = [];
    const sink = new GroupCommitSink(
      libsqlRunner(handle.client),
      { maxBatchBytes: 64 * 1024 },
      undefined,
      (run, reports, cache) => {
        batchSizes.push(reports.length);
        return writeReports(run, reports, cache);
      },
    );
    const results = await Promise.all(
      Array.from({ length: 3 }, (_, i) => sink.submit(bigReport(project, i, 190))),
    );
    expect(results.map((r) => r.outcome)).toEqual(['new', 'new', 'new']);
    expect(batchSizes).toEqual([1, 1, 1]);
  });
});
