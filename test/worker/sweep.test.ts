import {
  createExecutionContext,
  createScheduledController,
  env,
  SELF,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../functions/worker';
import { runtimeReport } from '../helpers/payloads';

const TOKEN = 'worker-test-token';
const api = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`https://log-center.test${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
  });

describe('cron sweep through the Worker scheduled handler', () => {
  it('returns expired leases to NEW and purges old occurrences', async () => {
    const report = await SELF.fetch('https://log-center.test/api/v1/logs/report', {
      method: 'POST',
      body: JSON.stringify(runtimeReport('w_sweep')),
    });
    const { id } = await report.json<{ id: number }>();
    const claim = await api('/api/v1/tasks/claim', {
      method: 'POST',
      body: JSON.stringify({ agent_id: 'edge-agent', project_id: 'w_sweep' }),
    });
    expect((await claim.json<{ items: { id: number }[] }>()).items.map((b) => b.id)).toEqual([id]);
    // The agent vanished: its lease ran out, and the occurrence is older than retention.
    await env.DB.prepare("UPDATE bugs SET lease_expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?")
      .bind(id)
      .run();
    await env.DB.prepare("UPDATE occurrences SET received_at = '2000-01-01T00:00:00.000Z' WHERE bug_id = ?")
      .bind(id)
      .run();

    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: '*/5 * * * *', scheduledTime: Date.now() }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);

    const bug = await (await api(`/api/v1/bugs/${id}`)).json<{
      status: string;
      claimed_by: string | null;
      occurrences: unknown[];
      history: { actor: string; to_status: string }[];
    }>();
    expect(bug.status).toBe('NEW');
    expect(bug.claimed_by).toBeNull();
    expect(bug.occurrences).toEqual([]);
    expect(bug.history.at(-1)).toMatchObject({ actor: 'sweep', to_status: 'NEW' });
  });

  it('runs the same sweep on POST /api/v1/admin/sweep', async () => {
    const res = await api('/api/v1/admin/sweep', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      leases_expired: expect.any(Number),
      occurrences_purged: expect.any(Number),
    });
  });
});
