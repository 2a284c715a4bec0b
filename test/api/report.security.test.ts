import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BugDetailSchema, ProjectSchema } from '../../functions/routes/schemas';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import {
  BugPageSchema,
  bodyAs,
  type LogCenterHandle,
  startLogCenter,
  uniqueProject,
} from '../helpers/server';

const env = { CORS_ORIGINS: 'https://dash.example.com' };
let lc: LogCenterHandle;
beforeAll(async () => {
  lc = await startLogCenterApp({ env });
});
afterAll(() => lc.stop());

describe('auth', () => {
  it('leaves ingestion and health open', async () => {
    expect((await lc.fetch('/api/health')).status).toBe(200);
    expect((await lc.report(runtimeReport(uniqueProject()))).status).toBe(200);
  });

  it.each([
    ['no header', {}],
    ['a wrong token', { Authorization: 'Bearer wrong' }],
    ['a non-bearer scheme', { Authorization: 'Basic abc' }],
  ])('refuses the API with %s', async (_name, headers) => {
    for (const path of ['/api/v1/projects', '/api/v1/bugs', '/api/v1/bugs/1', '/api/v1/projects/x']) {
      const res = await lc.fetch(path, { headers });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('unauthorized');
    }
  });

  it('refuses PUT on a project without the token and changes nothing', async () => {
    const project = uniqueProject();
    await lc.report(runtimeReport(project));
    const res = await lc.fetch(`/api/v1/projects/${project}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ local_path: '/tmp/evil' }),
    });
    expect(res.status).toBe(401);
    const proj = await bodyAs(ProjectSchema, await lc.api(`/api/v1/projects/${project}`));
    expect(proj.local_path).toBeNull();
  });
});

describe('ingest keys', () => {
  it('requires the project key once one is set, by header or query', async () => {
    const project = uniqueProject();
    await lc.api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      body: JSON.stringify({ ingest_key: 'k_1234567890' }),
    });
    const without = await lc.report(runtimeReport(project));
    expect(without.status).toBe(401);
    expect((await without.json()).error.code).toBe('invalid_ingest_key');
    const wrong = await lc.report(runtimeReport(project), { headers: { 'X-Log-Center-Key': 'nope' } });
    expect(wrong.status).toBe(401);
    const byHeader = await lc.report(runtimeReport(project), {
      headers: { 'X-Log-Center-Key': 'k_1234567890' },
    });
    expect(byHeader.status).toBe(200);
    const byQuery = await lc.fetch('/api/v1/logs/report?key=k_1234567890', {
      method: 'POST',
      body: JSON.stringify(runtimeReport(project)),
    });
    expect(await byQuery.json()).toMatchObject({ message: 'Log deduplicated' });
  });
});

describe('rate limit', () => {
  it('answers 429 rate_limited with Retry-After past the project rate, other projects unaffected', async () => {
    const noisy = uniqueProject('noisy');
    const quiet = uniqueProject('quiet');
    await lc.api(`/api/v1/projects/${noisy}`, {
      method: 'PUT',
      body: JSON.stringify({ rate_limit_per_minute: 5 }),
    });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await lc.report(runtimeReport(noisy)));
    const limited = answers.filter((r) => r.status === 429);
    expect(answers.filter((r) => r.status === 200)).toHaveLength(5);
    expect(limited).toHaveLength(3);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await limited[0]!.json()).error.code).toBe('rate_limited');
    expect((await lc.report(runtimeReport(quiet))).status).toBe(200);
    const bugs = await bodyAs(BugPageSchema, await lc.api(`/api/v1/bugs?project_id=${noisy}`));
    expect(bugs.items[0]?.occurrence_count).toBe(5);
  });
});

// Over a socket: what a browser's preflight gets back is the point here.
describe('CORS', () => {
  let wire: LogCenterHandle;
  beforeAll(async () => {
    wire = await startLogCenter({ env });
  });
  afterAll(() => wire.stop());

  it('answers the report preflight for any origin, with credentials', async () => {
    const res = await fetch(`${wire.url}/api/v1/logs/report`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.example.org',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example.org');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
  });

  it('limits other routes to CORS_ORIGINS', async () => {
    const allowed = await fetch(`${wire.url}/api/v1/bugs`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://dash.example.com', 'Access-Control-Request-Method': 'GET' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    const denied = await fetch(`${wire.url}/api/v1/bugs`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example.net', 'Access-Control-Request-Method': 'GET' },
    });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('names the allowed origin on the answers themselves, errors included, and varies them by Origin', async () => {
    const get = (origin: string, auth = true) =>
      fetch(`${wire.url}/api/v1/bugs?page_size=1`, {
        headers: { Origin: origin, ...(auth ? { Authorization: `Bearer ${wire.token}` } : {}) },
      });
    const allowed = await get('https://dash.example.com');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    expect(allowed.headers.get('vary')).toMatch(/\bOrigin\b/);
    expect(allowed.headers.get('x-content-type-options')).toBe('nosniff');
    expect(((await allowed.json()) as { page_size: number }).page_size).toBe(1);
    const unauthorised = await get('https://dash.example.com', false);
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    const denied = await get('https://evil.example.net');
    expect(denied.status).toBe(200);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    expect(denied.headers.get('vary')).toMatch(/\bOrigin\b/);
  });
});

describe('hostile strings', () => {
  it('stores HTML, SQL and Unicode verbatim and returns them as JSON data', async () => {
    const project = uniqueProject();
    const message = `<script>alert(1)</script><img src=x onerror=alert(2)> '; DROP TABLE bugs; -- 💥 \u202e עברית \u0000`;
    const body = runtimeReport(project, {
      error: { ...runtimeReport(project).error, type: "Robert'); DROP TABLE bugs;--", message },
      context: { 'key\'"': '<b>x</b>' },
    });
    const { id } = await (await lc.report(body)).json();
    const stored = await bodyAs(BugDetailSchema, await lc.api(`/api/v1/bugs/${id}`));
    // NUL cannot live in SQLite text (reads stop there), so it is stored as U+FFFD.
    expect(stored.error.message).toBe(message.replace('\u0000', '\uFFFD'));
    expect(stored.error.type).toBe("Robert'); DROP TABLE bugs;--");
    expect(stored.context['key\'"']).toBe('<b>x</b>');
    const search = await bodyAs(BugPageSchema, await lc.api(`/api/v1/bugs?project_id=${project}`));
    expect(search.total).toBe(1);
  });
});
