import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogCenterApp } from '../helpers/app';
import type { LogCenterHandle } from '../helpers/server';
import { lifecycleActions, startWithWebhooks } from './lifecycle-support';

// What the lifecycle routes refuse: unknown statuses and bugs, webhooks without a secret.

let lc: LogCenterHandle;
beforeAll(async () => {
  lc = await startWithWebhooks();
});
afterAll(() => lc.stop());

const { setStatus, getBug, newBug } = lifecycleActions(() => lc);

describe('status changes', () => {
  it('answers 422 for an unknown status and 404 for an unknown bug', async () => {
    const { id } = await newBug();
    const unknown = await setStatus(id, 'DONE');
    expect(unknown.status).toBe(422);
    expect((await unknown.json()).error.code).toBe('validation_failed');
    expect((await setStatus(9_999_999, 'FAILED')).status).toBe(404);
    const malformed = await lc.api(`/api/v1/bugs/${id}/status`, { method: 'PUT', body: '{"status":' });
    expect(malformed.status).toBe(400);
    expect((await getBug(id)).status).toBe('NEW');
  });
});

describe('webhooks', () => {
  it('answers 503 when a webhook secret is not configured', async () => {
    const bare = await startLogCenterApp();
    try {
      const res = await bare.fetch('/api/webhooks/deployment', { method: 'POST', body: '{}' });
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe('not_configured');
      expect((await bare.fetch('/api/webhooks/gitea', { method: 'POST', body: '{}' })).status).toBe(503);
    } finally {
      await bare.stop();
    }
  });
});
