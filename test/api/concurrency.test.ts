import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';

let lc: LogCenterHandle;
beforeAll(async () => {
  lc = await startLogCenter();
});
afterAll(() => lc.stop());

describe('dedup under concurrency', () => {
  it('turns 100 concurrent identical reports into one bug with count 100', async () => {
    const project = uniqueProject();
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => lc.report(runtimeReport(project)).then((r) => r.json())),
    );
    const ids = new Set(answers.map((a) => a.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.message === 'Log reported')).toHaveLength(1);
    expect(answers.filter((a) => a.message === 'Log deduplicated')).toHaveLength(99);

    const list = await (await lc.api(`/api/v1/bugs?project_id=${project}`)).json();
    expect(list.total).toBe(1);
    expect(list.items[0].occurrence_count).toBe(100);
    const detail = await (await lc.api(`/api/v1/bugs/${list.items[0].id}`)).json();
    expect(detail.history).toHaveLength(1);
  });

  it('keeps every concurrent report of many fingerprints, each counted once', async () => {
    const project = uniqueProject();
    const reports = Array.from({ length: 300 }, (_, i) =>
      runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: i % 30 } }),
    );
    const answers = await Promise.all(reports.map((r) => lc.report(r)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const list = await (await lc.api(`/api/v1/bugs?project_id=${project}&page_size=200`)).json();
    expect(list.total).toBe(30);
    const sum = list.items.reduce((n: number, b: { occurrence_count: number }) => n + b.occurrence_count, 0);
    expect(sum).toBe(300);
  });

  it('caps the occurrence history per bug at the newest 100', async () => {
    const project = uniqueProject();
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          lc.report(runtimeReport(project, { context: { n: round * 50 + i } })),
        ),
      );
    }
    const list = await (await lc.api(`/api/v1/bugs?project_id=${project}`)).json();
    const bug = list.items[0];
    expect(bug.occurrence_count).toBe(150);
    const rows = await lc.server.deps.db.all<{ n: number; oldest: number }>(
      sql`SELECT count(*) AS n, min(json_extract(context, '$.n')) AS oldest FROM occurrences WHERE bug_id = ${bug.id}`,
    );
    expect(rows[0]!.n).toBe(100);
    expect(rows[0]!.oldest).toBeGreaterThanOrEqual(50);
  });
});
