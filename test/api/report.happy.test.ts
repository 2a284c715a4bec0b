import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BugDetailSchema, ProjectSchema } from '../../functions/routes/schemas';
import { startLogCenterApp } from '../helpers/app';
import { cicdReport, deploymentReport, registrationReport, runtimeReport } from '../helpers/payloads';
import { bodyAs, type LogCenterHandle, uniqueProject } from '../helpers/server';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

let lc: LogCenterHandle;
beforeAll(async () => {
  lc = await startLogCenterApp();
});
afterAll(() => lc.stop());

async function bug(id: number) {
  const res = await lc.api(`/api/v1/bugs/${id}`);
  expect(res.status).toBe(200);
  return bodyAs(BugDetailSchema, res);
}
const projectNamed = async (id: string) => bodyAs(ProjectSchema, await lc.api(`/api/v1/projects/${id}`));

describe('POST /api/v1/logs/report with the guide payloads', () => {
  it('creates a runtime bug, then deduplicates it with the exact messages', async () => {
    const project = uniqueProject();
    const first = await lc.report(runtimeReport(project));
    expect(first.status).toBe(200);
    const created = await first.json();
    expect(created).toEqual({ message: 'Log reported', id: expect.any(Number) });

    const second = await lc.report(runtimeReport(project));
    expect(await second.json()).toEqual({ message: 'Log deduplicated', id: created.id, status: 'NEW' });

    const stored = await bug(created.id);
    expect(stored).toMatchObject({
      project_id: project,
      source: 'runtime',
      level: 'ERROR',
      status: 'NEW',
      occurrence_count: 2,
      regression_count: 0,
      fingerprint: md5(`${project}|ValueError|apps/users/views.py|42`),
      error: { type: 'ValueError', file_path: 'apps/users/views.py', line_number: 42 },
      context: { url: '/api/users/123', method: 'GET', user_id: 'u_12345' },
      pr_number: null,
      claimed_by: null,
    });
    expect(stored.error.stack_trace).toHaveLength(3);
    expect(stored.occurrences).toHaveLength(2);
    expect(stored.history).toEqual([
      expect.objectContaining({ from_status: null, to_status: 'NEW', actor: 'ingest' }),
    ]);
  });

  it('fingerprints cicd reports by job and step, and copies repo_url to the new project', async () => {
    const project = uniqueProject();
    const res = await lc.report(cicdReport(project));
    const { id } = await res.json();
    const stored = await bug(id);
    expect(stored.fingerprint).toBe(md5(`${project}|cicd|CICDFailure|build-and-deploy|build`));
    expect(stored.error.file_path).toBeNull();
    expect(stored.context.run_url).toBe('https://gitea.airlabs.art/zyc/rtc_backend/actions/runs/24');

    const other = await lc.report(
      cicdReport(project, { context: { job_name: 'build-and-deploy', step_name: 'deploy' } }),
    );
    expect((await other.json()).message).toBe('Log reported');

    const proj = await projectNamed(project);
    expect(proj.repo_url).toBe('https://gitea.airlabs.art/zyc/rtc_backend.git');
    expect(proj.bug_counts.total).toBe(2);
  });

  it('fingerprints deployment reports by namespace and deployment', async () => {
    const project = uniqueProject();
    const { id } = await (await lc.report(deploymentReport(project))).json();
    const stored = await bug(id);
    expect(stored.fingerprint).toBe(md5(`${project}|deployment|CrashLoopBackOff|default|rtc-backend`));
    expect(stored.level).toBe('CRITICAL');
    expect(stored.context.restart_count).toBe(5);
    // another pod of the same deployment is the same bug
    const again = await lc.report(
      deploymentReport(project, {
        context: { namespace: 'default', deployment_name: 'rtc-backend', pod_name: 'rtc-backend-zzz' },
      }),
    );
    expect(await again.json()).toMatchObject({ message: 'Log deduplicated', id });
  });

  it('honours a client fingerprint override', async () => {
    const project = uniqueProject();
    const body = runtimeReport(project, { fingerprint: ['checkout', 'timeout'] });
    const { id } = await (await lc.report(body)).json();
    const moved = runtimeReport(project, {
      fingerprint: ['checkout', 'timeout'],
      error: { ...runtimeReport(project).error, line_number: 99 },
    });
    expect(await (await lc.report(moved)).json()).toMatchObject({ message: 'Log deduplicated', id });
    expect((await bug(id)).fingerprint).toBe(md5(`${project}|checkout|timeout`));
  });

  it('accepts text/plain and no content type, as sendBeacon callers send', async () => {
    const project = uniqueProject();
    const text = await lc.fetch('/api/v1/logs/report', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(runtimeReport(project)),
    });
    expect(text.status).toBe(200);
    const none = await lc.fetch('/api/v1/logs/report', {
      method: 'POST',
      body: new Blob([JSON.stringify(runtimeReport(project))]),
    });
    expect(await none.json()).toMatchObject({ message: 'Log deduplicated', status: 'NEW' });
  });

  it('normalises levels case-insensitively with WARN and FATAL aliases', async () => {
    const project = uniqueProject();
    const cases: [string, string][] = [
      ['warn', 'WARNING'],
      ['Fatal', 'CRITICAL'],
      ['info', 'INFO'],
    ];
    for (const [given, stored] of cases) {
      const body = runtimeReport(project, {
        level: given,
        error: { ...runtimeReport(project).error, type: `T${given}` },
      });
      const { id } = await (await lc.report(body)).json();
      expect((await bug(id)).level).toBe(stored);
    }
  });

  it('takes the registration report of the guide (no frame) and keeps it off the board', async () => {
    const project = uniqueProject();
    const res = await lc.report(registrationReport(project));
    expect(res.status).toBe(200);
    const { id, message } = await res.json();
    expect(message).toBe('Log reported');
    expect((await bug(id)).status).toBe('IGNORED');
    const proj = await projectNamed(project);
    expect(proj.repo_url).toBe(`https://gitea.airlabs.art/team/${project}.git`);
  });

  it('uses the client timestamp for the occurrence and server time for last_seen', async () => {
    const project = uniqueProject();
    const { id } = await (
      await lc.report(runtimeReport(project, { timestamp: '2026-02-25T12:30:15' }))
    ).json();
    const stored = await bug(id);
    expect(stored.occurrences[0]?.timestamp).toBe('2026-02-25T12:30:15.000Z');
    expect(Date.parse(stored.last_seen)).toBeGreaterThan(Date.parse('2026-11-01'));
  });
});

describe('stored data is cleaned', () => {
  it('filters sensitive context keys at any depth, also inside longer keys', async () => {
    const project = uniqueProject();
    const context = {
      db_password: 'hunter2',
      Authorization: 'Bearer abc',
      nested: { session_id: 's', list: [{ apiKey: 'k', harmless: 'ok' }], Cookie: 'c' },
      user_id: 'u1',
    };
    const { id } = await (await lc.report(runtimeReport(project, { context }))).json();
    const stored = await bug(id);
    expect(stored.context).toEqual({
      db_password: '[Filtered]',
      Authorization: '[Filtered]',
      nested: {
        session_id: '[Filtered]',
        list: [{ apiKey: '[Filtered]', harmless: 'ok' }],
        Cookie: '[Filtered]',
      },
      user_id: 'u1',
    });
    expect(JSON.stringify(stored)).not.toContain('hunter2');
  });

  it('truncates long message, stack and context with visible markers', async () => {
    const project = uniqueProject();
    const lines = Array.from({ length: 500 }, (_, i) => `frame ${i}`);
    const body = runtimeReport(project, {
      error: { ...runtimeReport(project).error, message: 'x'.repeat(20_000), stack_trace: lines.join('\n') },
      context: { big: 'y'.repeat(40_000), small: 'kept' },
    });
    const { id } = await (await lc.report(body)).json();
    const stored = await bug(id);
    expect(new TextEncoder().encode(stored.error.message).length).toBeLessThan(8 * 1024 + 64);
    expect(stored.error.message).toMatch(/…\[truncated \d+ bytes\]$/);
    expect(stored.error.stack_trace).toHaveLength(200);
    expect(stored.error.stack_trace[0]).toBe('frame 0');
    expect(stored.error.stack_trace[100]).toBe('…[truncated 301 lines]…');
    expect(stored.error.stack_trace[199]).toBe('frame 499');
    expect(stored.context.small).toBe('kept');
    expect(stored.context.big).toMatch(/^\[truncated: \d+ bytes\]$/);
    expect(stored.context._truncated).toContain('limit 32768');
  });

  it('splits a string stack trace and multi-line array entries into lines', async () => {
    const project = uniqueProject();
    const body = cicdReport(project, {
      error: { type: 'CICDFailure', message: 'm', stack_trace: ['step 1\nstep 2\r\nstep 3'] },
    });
    const { id } = await (await lc.report(body)).json();
    expect((await bug(id)).error.stack_trace).toEqual(['step 1', 'step 2', 'step 3']);
  });
});
