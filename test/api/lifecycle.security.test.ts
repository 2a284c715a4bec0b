import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { giteaPullRequestPayload, signGitea } from '../helpers/gitea';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import { GITEA_SECRET, json, lifecycleActions, startWithWebhooks } from './lifecycle-support';

// The webhooks trust a signature or a shared secret, never the body alone.

let lc: LogCenterHandle;
beforeAll(async () => {
  lc = await startWithWebhooks();
});
afterAll(() => lc.stop());

const { setStatus, getBug, newBug, claim, sendGitea, deploy, toMerged } = lifecycleActions(() => lc);

describe('Gitea webhook', () => {
  it('refuses a bad or missing signature and changes nothing', async () => {
    const project = uniqueProject();
    const repo = `sig_${Date.now()}`;
    await lc.api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      ...json({ repo_url: `https://gitea.airlabs.art/o/${repo}.git` }),
    });
    const { id } = await newBug(project);
    await claim('a', project);
    await lc.api(`/api/v1/bugs/${id}/pr-info`, { method: 'PUT', ...json({ pr_number: 3 }) });
    await setStatus(id, 'PENDING_REVIEW');
    const payload = giteaPullRequestPayload({ owner: 'o', repo, number: 3, action: 'closed', merged: true });
    const wrong = await sendGitea(payload, 'not-the-secret');
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe('invalid_signature');
    const unsigned = await lc.fetch('/api/webhooks/gitea', {
      method: 'POST',
      body: JSON.stringify(payload),
    });
    expect(unsigned.status).toBe(401);
    // a body altered after signing
    const body = JSON.stringify(payload);
    const tampered = await lc.fetch('/api/webhooks/gitea', {
      method: 'POST',
      headers: { 'X-Gitea-Signature': signGitea(body, GITEA_SECRET) },
      body: body.replace('"merged":true', '"merged":false'),
    });
    expect(tampered.status).toBe(401);
    expect((await getBug(id)).status).toBe('PENDING_REVIEW');
  });
});

describe('deploy webhook', () => {
  it('refuses a deploy with the wrong secret and changes nothing', async () => {
    const { id, project } = await toMerged('o', `s_${Date.now()}`, 5, 'd'.repeat(40));
    const wrong = await deploy({ project_id: project, status: 'success', commit: 'd'.repeat(40) }, 'nope');
    expect(wrong.status).toBe(401);
    expect((await getBug(id)).status).toBe('MERGED');
  });
});
