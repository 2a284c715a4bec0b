import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../functions/worker';
import { runtimeReport } from '../helpers/payloads';

// The Worker writes each report alone (DirectSink) to D1: the limit is the same SQL there.
const TOKEN = 'worker-test-token';

describe('MAX_PROJECTS on Workers with D1', () => {
  it('creates projects up to the limit and refuses new ids past it with 422 project_limit', async () => {
    const call = async (bindings: typeof env, path: string, init: RequestInit = {}) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request(`https://log-center.test${path}`, init), bindings, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const list = await call(env, '/api/v1/projects?page_size=1', {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const { total } = await list.json<{ total: number }>();
    // A fresh env object: the Worker parses its configuration once per bindings object.
    const limited = { ...env, MAX_PROJECTS: String(total + 2) };
    const post = (id: string) =>
      call(limited, '/api/v1/logs/report', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(runtimeReport(id)),
      });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => post(`w_limit_${i}`)));
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([200, 200, 422, 422, 422, 422]);
    const refused = answers.find((res) => res.status === 422)!;
    expect(await refused.json()).toMatchObject({ error: { code: 'project_limit' } });
    const kept = answers.findIndex((res) => res.status === 200);
    expect((await post(`w_limit_${kept}`)).status).toBe(200);
  });
});
