import { SELF } from 'cloudflare:test';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cicdReport, deploymentReport, runtimeReport } from '../helpers/payloads';

// These run inside workerd with a D1 binding: the Worker entry, not the Node server.
const TOKEN = 'worker-test-token';
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

const report = (body: unknown, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
  SELF.fetch('https://log-center.test/api/v1/logs/report', {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const api = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`https://log-center.test${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
  });

describe('ingestion on Workers with D1', () => {
  it('reports, deduplicates and returns the bug shape', async () => {
    const first = await report(runtimeReport('w_runtime'));
    expect(first.status).toBe(200);
    const { id, message } = await first.json<{ id: number; message: string }>();
    expect(message).toBe('Log reported');
    expect(await (await report(runtimeReport('w_runtime'))).json()).toEqual({
      message: 'Log deduplicated',
      id,
      status: 'NEW',
    });
    const bug = await (await api(`/api/v1/bugs/${id}`)).json<Record<string, unknown>>();
    expect(bug).toMatchObject({
      fingerprint: md5('w_runtime|ValueError|apps/users/views.py|42'),
      occurrence_count: 2,
      status: 'NEW',
    });
    expect(bug.occurrences).toHaveLength(2);
  });

  it('fingerprints cicd and deployment reports per source', async () => {
    const cicd = await (await report(cicdReport('w_ci'))).json<{ id: number }>();
    const dep = await (await report(deploymentReport('w_ci'))).json<{ id: number }>();
    const cicdBug = await (await api(`/api/v1/bugs/${cicd.id}`)).json<{ fingerprint: string }>();
    const depBug = await (await api(`/api/v1/bugs/${dep.id}`)).json<{ fingerprint: string }>();
    expect(cicdBug.fingerprint).toBe(md5('w_ci|cicd|CICDFailure|build-and-deploy|build'));
    expect(depBug.fingerprint).toBe(md5('w_ci|deployment|CrashLoopBackOff|default|rtc-backend'));
    const project = await (await api('/api/v1/projects/w_ci')).json<{ repo_url: string }>();
    expect(project.repo_url).toBe('https://gitea.airlabs.art/zyc/rtc_backend.git');
  });

  it('accepts text/plain and repairs shell-built payloads', async () => {
    const raw = JSON.stringify(cicdReport('w_shell')).replace(
      '...last 50 lines of the build log...',
      'a\tb \\Users',
    );
    const res = await report(raw.replace('\\t', '\t'), { 'Content-Type': 'text/plain' });
    expect(res.status).toBe(200);
  });

  it('answers 400, 413 and 422 in the error envelope and stores nothing', async () => {
    const bad = await report('not json');
    expect(bad.status).toBe(400);
    expect((await bad.json<{ error: { code: string } }>()).error.code).toBe('invalid_json');
    const big = await report(runtimeReport('w_bad', { context: { x: 'y'.repeat(300 * 1024) } }));
    expect(big.status).toBe(413);
    const invalid = await report({ project_id: 'w_bad', level: 'LOUD' });
    expect(invalid.status).toBe(422);
    const list = await (await api('/api/v1/bugs?project_id=w_bad')).json<{ total: number }>();
    expect(list.total).toBe(0);
  });

  it('counts concurrent identical reports exactly', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => report(runtimeReport('w_conc'))));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    const list = await (await api('/api/v1/bugs?project_id=w_conc')).json<{
      total: number;
      items: { occurrence_count: number }[];
    }>();
    expect(list.total).toBe(1);
    expect(list.items[0]!.occurrence_count).toBe(20);
  });

  it('requires the bearer token and keeps health open', async () => {
    expect((await SELF.fetch('https://log-center.test/api/v1/bugs')).status).toBe(401);
    expect((await SELF.fetch('https://log-center.test/api/health')).status).toBe(200);
  });

  it('answers the CORS preflight for reports from any origin', async () => {
    const res = await SELF.fetch('https://log-center.test/api/v1/logs/report', {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  });
});
