import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libsqlRunner } from '../../functions/lib/sql-batch';
import { ErrorSchema, ProjectPageSchema, ProjectSchema } from '../../functions/routes/schemas';
import { DirectSink, ProjectCache, writeReports } from '../../functions/services/ingest';
import { normaliseReport } from '../../functions/services/report';
import { openTempDatabase } from '../helpers/database';
import { runtimeReport } from '../helpers/payloads';
import { bodyAs, type LogCenterHandle, startLogCenter } from '../helpers/server';
import { nodeEnvelope } from '../sentry/fixtures';

/**
 * docs/api.md, limits: reports create projects only up to MAX_PROJECTS. The real server is used because
 * the point is the group-commit batch: many new ids arrive together and must be counted
 * inside the write, one report of a batch refused while the others are stored.
 */
const MAX = 5;

const projectCount = async (lc: LogCenterHandle) =>
  (await bodyAs(ProjectPageSchema, await lc.api('/api/v1/projects?page_size=1'))).total;

describe('MAX_PROJECTS on the report API', () => {
  let lc: LogCenterHandle;
  beforeAll(async () => {
    lc = await startLogCenter({ env: { MAX_PROJECTS: String(MAX) } });
  });
  afterAll(() => lc.stop());

  it('creates exactly MAX_PROJECTS of 20 concurrent new ids and refuses the rest with 422', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `rotating_${i}`);
    const answers = await Promise.all(ids.map((id) => lc.report(runtimeReport(id))));
    const accepted = answers.filter((res) => res.status === 200);
    const refused = answers.filter((res) => res.status === 422);
    expect(accepted).toHaveLength(MAX);
    expect(refused).toHaveLength(20 - MAX);
    const error = await bodyAs(ErrorSchema, refused[0]!);
    expect(error.error.code).toBe('project_limit');
    expect(error.error.message).toContain(`limit of ${MAX} projects (MAX_PROJECTS)`);
    expect(await projectCount(lc)).toBe(MAX);

    // Nothing of a refused report was stored: no bug, no project.
    const refusedIds = ids.filter((_, i) => answers[i]!.status === 422);
    for (const id of refusedIds.slice(0, 3)) {
      const bugs = (await (await lc.api(`/api/v1/bugs?project_id=${id}`)).json()) as { total: number };
      expect(bugs.total).toBe(0);
      expect((await lc.api(`/api/v1/projects/${id}`)).status).toBe(404);
    }

    // Existing projects are unaffected, alone or in a batch with refused new ids.
    const existing = ids[answers.findIndex((res) => res.status === 200)]!;
    const mixed = await Promise.all([
      lc.report(runtimeReport(existing, { error: { ...runtimeReport(existing).error, line_number: 2 } })),
      ...Array.from({ length: 5 }, (_, i) => lc.report(runtimeReport(`late_${i}`))),
    ]);
    expect(mixed.map((res) => res.status)).toEqual([200, 422, 422, 422, 422, 422]);
    expect(await mixed[0]!.json()).toMatchObject({ message: 'Log reported' });
    expect((await lc.report(runtimeReport(existing))).status).toBe(200);
    expect(await projectCount(lc)).toBe(MAX);
  });

  it('refuses PUT of a new project past the limit but still edits existing ones', async () => {
    expect(await projectCount(lc)).toBe(MAX);
    const res = await lc.api('/api/v1/projects/put_new', {
      method: 'PUT',
      body: JSON.stringify({ name: 'x' }),
    });
    expect(res.status).toBe(422);
    expect((await bodyAs(ErrorSchema, res)).error.code).toBe('project_limit');
    expect((await lc.api('/api/v1/projects/put_new')).status).toBe(404);

    const page = await bodyAs(ProjectPageSchema, await lc.api('/api/v1/projects'));
    const existing = page.items[0]!.id;
    const edit = await lc.api(`/api/v1/projects/${existing}`, {
      method: 'PUT',
      body: JSON.stringify({ name: 'Renamed', ingest_key: 'limit_test_key_1' }),
    });
    expect(edit.status).toBe(200);
    expect((await bodyAs(ProjectSchema, edit)).name).toBe('Renamed');
  });

  it('still takes Sentry envelopes for an existing project at the limit', async () => {
    const page = await bodyAs(ProjectPageSchema, await lc.api('/api/v1/projects'));
    const keyed = page.items.find((p) => p.ingest_key === 'limit_test_key_1')!;
    const bugsBefore = keyed.bug_counts.total;
    const res = await lc.fetch(`/api/${keyed.sentry_id}/envelope/?sentry_key=limit_test_key_1`, {
      method: 'POST',
      body: new Uint8Array(nodeEnvelope()),
    });
    expect(res.status).toBe(200);
    const bugs = (await (await lc.api(`/api/v1/bugs?project_id=${keyed.id}`)).json()) as { total: number };
    expect(bugs.total).toBe(bugsBefore + 1);
    expect(await projectCount(lc)).toBe(MAX);
  });
});

describe('MAX_PROJECTS in the write itself (the Worker path: DirectSink)', () => {
  it('counts inside each write and answers project_limit for the refused report only', async () => {
    const temp = await openTempDatabase('project-limit');
    try {
      const run = libsqlRunner(temp.handle.client);
      const cache = new ProjectCache();
      const sink = new DirectSink(run, cache);
      const report = (id: string, line = 1) => {
        const body = runtimeReport(id, { error: { ...runtimeReport(id).error, line_number: line } });
        const parsed = normaliseReport(body, new Date().toISOString());
        if (!parsed.ok) throw new Error('fixture did not validate');
        return { ...parsed.report, maxProjects: 2 };
      };
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((id) => sink.submit(report(id))));
      expect(results.filter((r) => r.outcome === 'new')).toHaveLength(2);
      expect(results.filter((r) => r.outcome === 'project_limit')).toHaveLength(2);
      // One batch: an existing project's report is stored beside a refused one.
      const kept = ['a', 'b', 'c', 'd'][results.findIndex((r) => r.outcome === 'new')]!;
      const mixed = await writeReports(run, [report(kept, 7), report('e', 7)], cache);
      expect(mixed.map((r) => r.outcome)).toEqual(['new', 'project_limit']);
      const count = await temp.handle.client.execute('SELECT count(*) AS n FROM projects');
      expect(Number(count.rows[0]!.n)).toBe(2);
      const orphans = await temp.handle.client.execute(
        'SELECT count(*) AS n FROM bugs WHERE project_id NOT IN (SELECT id FROM projects)',
      );
      expect(Number(orphans.rows[0]!.n)).toBe(0);
    } finally {
      temp.remove();
    }
  });
});
