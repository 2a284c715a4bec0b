import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorSchema, ProjectPageSchema } from '../../functions/routes/schemas';
import { projects } from '../../schema';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { bodyAs, type LogCenterHandle } from '../helpers/server';

/** docs/api.md, limits: every list paginates, GET /api/v1/projects included (it once grew to 1 MiB). */
describe('GET /api/v1/projects pages', () => {
  let lc: LogCenterHandle;
  const ids = Array.from({ length: 250 }, (_, i) => `page_${String(i).padStart(3, '0')}`);
  beforeAll(async () => {
    lc = await startLogCenterApp();
    const now = new Date().toISOString();
    await lc.server.deps.db
      .insert(projects)
      .values(ids.map((id) => ({ id, createdAt: now, updatedAt: now })));
    expect((await lc.report(runtimeReport('page_210'))).status).toBe(200);
  });
  afterAll(() => lc.stop());

  const page = async (query: string) => bodyAs(ProjectPageSchema, await lc.api(`/api/v1/projects${query}`));

  it('answers the first 50 by id with the total, so old readers still get items and total', async () => {
    const first = await page('');
    expect(first).toMatchObject({ total: 250, page: 1, page_size: 50 });
    expect(first.items.map((p) => p.id)).toEqual(ids.slice(0, 50));
  });

  it('walks every project in pages of up to 200, with bug counts on a later page', async () => {
    const one = await page('?page=1&page_size=200');
    const two = await page('?page=2&page_size=200');
    expect(one.items).toHaveLength(200);
    expect(two.items).toHaveLength(50);
    expect([...one.items, ...two.items].map((p) => p.id)).toEqual(ids);
    expect(two.items.find((p) => p.id === 'page_210')!.bug_counts).toEqual({
      total: 1,
      by_status: { NEW: 1 },
    });
    expect((await page('?page=3&page_size=200')).items).toEqual([]);
  });

  it('refuses a page_size over 200', async () => {
    const res = await lc.api('/api/v1/projects?page_size=201');
    expect(res.status).toBe(422);
    expect((await bodyAs(ErrorSchema, res)).error.code).toBe('validation_failed');
  });
});
