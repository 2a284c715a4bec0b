import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LibsqlHandle } from '../../functions/lib/db-libsql';
import { libsqlRunner } from '../../functions/lib/sql-batch';
import { GroupCommitSink } from '../../functions/services/group-commit';
import { OCCURRENCES_KEPT, TRIM_STEP, writeReports } from '../../functions/services/ingest';
import { type NormalisedReport, normaliseReport } from '../../functions/services/report';
import { openTempDatabase, type TempDatabase } from '../helpers/database';
import { runtimeReport } from '../helpers/payloads';
import { uniqueProject } from '../helpers/server';

let database: TempDatabase;
let handle: LibsqlHandle;
beforeAll(async () => {
  database = await openTempDatabase('group-commit');
  handle = database.handle;
});
afterAll(() => database.remove());

function normalised(project: string, line: number): NormalisedReport {
  const outcome = normaliseReport(
    runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: line } }),
    new Date().toISOString(),
  );
  if (!outcome.ok) throw new Error('fixture did not validate');
  return outcome.report;
}

const occurrenceTotal = async (project: string) =>
  (
    await handle.db.all<{ n: number | null }>(
      sql`SELECT sum(occurrence_count) AS n FROM bugs WHERE project_id = ${project}`,
    )
  )[0]?.n ?? 0;

describe('group commit', () => {
  it('writes concurrent reports in shared batches and answers each after its commit', async () => {
    const project = uniqueProject();
    let batches = 0;
    const sink = new GroupCommitSink(
      libsqlRunner(handle.client),
      { maxDelayMs: 5, maxBatch: 50, maxQueue: 1000 },
      undefined,
      async (run, reports, cache) => {
        batches++;
        const { writeReports } = await import('../../functions/services/ingest');
        return writeReports(run, reports, cache);
      },
    );
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => sink.submit(normalised(project, i % 20))),
    );
    expect(results.filter((r) => r.outcome === 'new')).toHaveLength(20);
    expect(batches).toBeLessThan(50);
    expect(await occurrenceTotal(project)).toBe(200);
  });

  it('keeps the other reports of a batch when one row fails in the database', async () => {
    const project = uniqueProject();
    const sink = new GroupCommitSink(libsqlRunner(handle.client), {
      maxDelayMs: 5,
      maxBatch: 50,
      maxQueue: 1000,
    });
    const good = Array.from({ length: 9 }, (_, i) => normalised(project, i));
    // A row that passes the API but breaks a NOT NULL constraint inside the batch.
    const bad = { ...normalised(project, 99), level: null } as unknown as NormalisedReport;
    const settled = await Promise.allSettled(
      [...good.slice(0, 5), bad, ...good.slice(5)].map((r) => sink.submit(r)),
    );
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(9);
    expect(settled[5]!.status).toBe('rejected');
    expect(await occurrenceTotal(project)).toBe(9);
  });

  it('refuses with 429 queue_full instead of growing without bound', async () => {
    const project = uniqueProject();
    const sink = new GroupCommitSink(libsqlRunner(handle.client), {
      maxDelayMs: 50,
      maxBatch: 1000,
      maxQueue: 10,
    });
    const settled = await Promise.allSettled(
      Array.from({ length: 15 }, (_, i) => sink.submit(normalised(project, i))),
    );
    const refused = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
    expect(refused).toHaveLength(5);
    expect(refused[0]!.reason).toMatchObject({ code: 'queue_full', retryAfterSeconds: 1 });
    expect(await occurrenceTotal(project)).toBe(10);
  });

  it('bounds the queue by body bytes too, and takes reports again once a batch is written', async () => {
    const project = uniqueProject();
    const sink = new GroupCommitSink(libsqlRunner(handle.client), {
      maxDelayMs: 50,
      maxBatch: 1000,
      maxQueue: 1000,
      maxQueueBytes: 1_000_000,
    });
    const big = 300_000;
    const first = Array.from({ length: 4 }, (_, i) => sink.submit(normalised(project, i), big));
    const settled = await Promise.allSettled(first);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect((settled[3] as PromiseRejectedResult).reason).toMatchObject({
      code: 'queue_full',
      retryAfterSeconds: 1,
    });
    // One report larger than the whole bound is still taken when nothing else is held.
    await expect(sink.submit(normalised(project, 10), 2_000_000)).resolves.toMatchObject({ outcome: 'new' });
    expect(await occurrenceTotal(project)).toBe(4);
  });

  it('drains every queued report on shutdown', async () => {
    const project = uniqueProject();
    const sink = new GroupCommitSink(libsqlRunner(handle.client), {
      maxDelayMs: 1000,
      maxBatch: 1000,
      maxQueue: 1000,
    });
    const pending = Array.from({ length: 40 }, (_, i) => sink.submit(normalised(project, i)));
    await sink.drain();
    expect((await Promise.allSettled(pending)).every((s) => s.status === 'fulfilled')).toBe(true);
    expect(await occurrenceTotal(project)).toBe(40);
    await expect(sink.submit(normalised(project, 1))).rejects.toMatchObject({ code: 'shutting_down' });
  });
});

describe('one batch of reports', () => {
  const storedOccurrences = (project: string) =>
    handle.db.all<{ commit_hash: string; n: number }>(
      sql`SELECT o.commit_hash, json_extract(o.context, '$.n') AS n FROM occurrences o
        JOIN bugs b ON b.id = o.bug_id WHERE b.project_id = ${project} ORDER BY o.id`,
    );

  it("keeps a fingerprint's reports in order when their commits alternate", async () => {
    const project = uniqueProject();
    const reports = ['1111111aaaa', '2222222bbbb', '1111111aaaa'].map((commit, n) => {
      const outcome = normaliseReport(
        runtimeReport(project, { commit_hash: commit, context: { n } }),
        new Date().toISOString(),
      );
      if (!outcome.ok) throw new Error('fixture did not validate');
      return outcome.report;
    });
    const results = await writeReports(libsqlRunner(handle.client), reports);
    expect(results.map((r) => r.outcome)).toEqual(['new', 'dedup', 'dedup']);
    // The bug shows the commit of the latest report, and occurrences follow the reports.
    const [bug] = await handle.db.all<{ commit_hash: string; occurrence_count: number }>(
      sql`SELECT commit_hash, occurrence_count FROM bugs WHERE project_id = ${project}`,
    );
    expect(bug).toEqual({ commit_hash: '1111111aaaa', occurrence_count: 3 });
    expect(await storedOccurrences(project)).toEqual([
      { commit_hash: '1111111aaaa', n: 0 },
      { commit_hash: '2222222bbbb', n: 1 },
      { commit_hash: '1111111aaaa', n: 2 },
    ]);
  });

  it(`trims a bug's history once every ${TRIM_STEP} reports past ${OCCURRENCES_KEPT}`, async () => {
    const project = uniqueProject();
    const run = libsqlRunner(handle.client);
    const write = async (count: number) => {
      for (let i = 0; i < count; i++) await writeReports(run, [normalised(project, 7)]);
    };
    await write(OCCURRENCES_KEPT + 5);
    expect((await storedOccurrences(project)).length).toBe(OCCURRENCES_KEPT + 5);
    await write(5); // the count crosses a multiple of TRIM_STEP
    expect((await storedOccurrences(project)).length).toBe(OCCURRENCES_KEPT);
  });
});
