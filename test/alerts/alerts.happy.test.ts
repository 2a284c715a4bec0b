import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogCenterApp } from '../helpers/app';
import { cicdReport, deploymentReport, registrationReport, runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import {
  clock,
  hooksFor,
  LOOPBACK_TARGETS,
  Receiver,
  setAlertSettings,
  setStatus,
  slackFor,
  sweep,
  waitFor,
} from './support';

// Local HTTP receivers stand in for Slack's incoming webhook and for the generic webhook.
const slack = new Receiver();
const hook = new Receiver();
const projectSlack = new Receiver();
const PUBLIC_URL = 'https://log-center.example.com';

let lc: LogCenterHandle;
let time: ReturnType<typeof clock>;
beforeAll(async () => {
  await Promise.all([slack.start(), hook.start(), projectSlack.start()]);
  lc = await startLogCenterApp({
    env: {
      ...LOOPBACK_TARGETS,
      SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/XXXX`,
      ALERT_WEBHOOK_URL: `${hook.url}/alerts`,
      PUBLIC_URL,
      ALERT_THROTTLE_MINUTES: '60',
    },
  });
  time = clock(lc);
});
afterAll(async () => {
  await lc.stop();
  await Promise.all([slack.stop(), hook.stop(), projectSlack.stop()]);
});

async function report(body: unknown): Promise<number> {
  const res = await lc.report(body);
  expect(res.status).toBe(200);
  return (await res.json()).id;
}

const sectionTexts = (body: { blocks: { text?: { text: string }; fields?: { text: string }[] }[] }) =>
  body.blocks.flatMap((b) => [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)]).join('\n');

describe('a new bug', () => {
  it('sends one Slack message and one webhook call with the context a person needs', async () => {
    const project = uniqueProject('alert');
    const id = await report(runtimeReport(project));
    await waitFor(() => slackFor(slack, project).length === 1 && hooksFor(hook, project).length === 1);

    const [message] = slackFor(slack, project);
    expect(message!.path).toBe('/services/T000/B000/XXXX');
    expect(message!.body.text).toContain('New bug');
    expect(message!.body.text).toContain(project);
    const text = sectionTexts(message!.body);
    expect(text).toContain(`*${project}*`);
    expect(text).toContain('ERROR');
    expect(text).toContain('runtime');
    expect(text).toContain(`<${PUBLIC_URL}/bugs/${id}|#${id} ValueError>`);
    expect(text).toContain("invalid literal for int() with base 10: 'abc'");
    expect(text).toContain('apps/users/views.py:42');
    expect(text).toMatch(/\*Occurrences\*\n1/);
    expect(JSON.stringify(message!.body)).toContain('method: GET');

    const [call] = hooksFor(hook, project);
    expect(call!.path).toBe('/alerts');
    expect(call!.body).toMatchObject({
      event: 'new_bug',
      project: { id: project, name: project },
      bug: {
        id,
        project_id: project,
        level: 'ERROR',
        status: 'NEW',
        error: { type: 'ValueError', line_number: 42 },
      },
      occurrences_since_last_alert: null,
      url: `${PUBLIC_URL}/bugs/${id}`,
    });

    await sweep(lc);
    expect(slackFor(slack, project)).toHaveLength(1);
    expect(hooksFor(hook, project)).toHaveLength(1);
  });

  it('names the CI step for pipeline failures and the pod for deployment failures', async () => {
    const project = uniqueProject('alert');
    await report(cicdReport(project));
    await waitFor(() => slackFor(slack, project).length === 1);
    // The second new bug of the minute waits for the digest window; end it.
    await report(deploymentReport(project));
    await time.settled(project);
    await time.endDigestWindow(project);
    await sweep(lc);
    await waitFor(() => slackFor(slack, project).length === 2);

    const texts = slackFor(slack, project).map((m) => sectionTexts(m.body));
    expect(texts.find((t) => t.includes('CICDFailure'))).toContain(
      'CI Build and Deploy › build-and-deploy › build',
    );
    expect(texts.find((t) => t.includes('CrashLoopBackOff'))).toContain(
      'pod rtc-backend-xxx-yyy (default/rtc-backend)',
    );
  });

  it('never alerts for IGNORED bugs (project registration reports)', async () => {
    const project = uniqueProject('alert');
    await report(registrationReport(project));
    await sweep(lc);
    await time.settled(project);
    expect(slackFor(slack, project)).toEqual([]);
    expect(hooksFor(hook, project)).toEqual([]);
  });
});

describe('lifecycle alerts', () => {
  it('alerts when a bug moves to FAILED, with the reason', async () => {
    const project = uniqueProject('alert');
    const id = await report(runtimeReport(project));
    await waitFor(() => hooksFor(hook, project).length === 1);
    await time.endWindow(id);

    await setStatus(lc, id, 'FAILED', 'tests still fail after the patch');
    await waitFor(() => hooksFor(hook, project).length === 2);
    expect(hooksFor(hook, project)[1]!.body).toMatchObject({
      event: 'failed',
      bug: { id, status: 'FAILED' },
      note: 'tests still fail after the patch',
      occurrences_since_last_alert: 0,
    });
    const slackText = sectionTexts(slackFor(slack, project)[1]!.body);
    expect(slackText).toContain('Fix failed');
    expect(slackText).toContain('tests still fail after the patch');
  });

  it('queues a FAILED alert when the sweep expires a lease for the third time', async () => {
    const project = uniqueProject('alert');
    const id = await report(runtimeReport(project));
    await waitFor(() => hooksFor(hook, project).length === 1);
    await time.endWindow(id);
    const db = lc.server.deps.db;
    for (let expiry = 1; expiry <= 3; expiry++) {
      const claim = await lc.api('/api/v1/tasks/claim', {
        method: 'POST',
        body: JSON.stringify({ agent_id: 'vanishing-agent', project_id: project }),
      });
      expect((await claim.json()).items).toHaveLength(1);
      await db.run(sql`UPDATE bugs SET lease_expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ${id}`);
      const result = await sweep(lc);
      expect(result.failed).toBe(expiry === 3 ? 1 : 0);
      if (expiry === 3) expect(result.alerts_sent).toBeGreaterThanOrEqual(1);
    }
    expect(hooksFor(hook, project).map((c) => c.body.event)).toEqual(['new_bug', 'failed']);
    expect(hooksFor(hook, project)[1]!.body.note).toContain('expired (3 of 3)');
  });

  it('sends "PR opened" only to projects that switch it on, and reminds once about a stale review', async () => {
    const quiet = uniqueProject('alert');
    const loud = uniqueProject('alert');
    await setAlertSettings(lc, loud, { events: { pr_opened: true } });
    const ids: Record<string, number> = {};
    for (const project of [quiet, loud]) {
      const id = await report(runtimeReport(project));
      ids[project] = id;
      await waitFor(() => hooksFor(hook, project).length === 1);
      await time.endWindow(id);
      await setStatus(lc, id, 'FIXING');
      await setStatus(lc, id, 'PENDING_REVIEW', 'PR #12 opened');
    }
    await waitFor(() => hooksFor(hook, loud).length === 2);
    await time.settled(quiet);
    expect(hooksFor(hook, loud)[1]!.body).toMatchObject({
      event: 'pr_opened',
      bug: { status: 'PENDING_REVIEW' },
    });
    expect(hooksFor(hook, quiet).map((c) => c.body.event)).toEqual(['new_bug']);
    expect((await time.outbox(quiet)).find((r) => r.kind === 'pr_opened')).toMatchObject({
      state: 'suppressed',
      note: 'pr_opened alerts are off for this project',
    });

    // A day and more in review: one reminder, not one per sweep.
    await time.endWindow(ids[quiet]!);
    await time.backdateStatus(ids[quiet]!, 30);
    const first = await sweep(lc);
    expect(first.reminders_queued).toBe(1);
    await waitFor(() => hooksFor(hook, quiet).length === 2);
    expect(hooksFor(hook, quiet)[1]!.body.event).toBe('reminder');
    expect(sectionTexts(slackFor(slack, quiet)[1]!.body)).toMatch(/\*In review for\*\n30 h/);
    await time.endWindow(ids[quiet]!);
    const second = await sweep(lc);
    expect(second.reminders_queued).toBe(0);
    expect(hooksFor(hook, quiet)).toHaveLength(2);
  });
});

describe('per-project settings', () => {
  it("sends to the project's own Slack webhook instead of the server's", async () => {
    const project = uniqueProject('alert');
    await setAlertSettings(lc, project, { slack_webhook_url: `${projectSlack.url}/services/own` });
    await report(runtimeReport(project));
    await waitFor(() => slackFor(projectSlack, project).length === 1 && hooksFor(hook, project).length === 1);
    expect(slackFor(projectSlack, project)[0]!.path).toBe('/services/own');
    expect(slackFor(slack, project)).toEqual([]);
  });

  it('falls back to the server targets when the dashboard clears a field (null)', async () => {
    const project = uniqueProject('alert');
    await setAlertSettings(lc, project, { slack_webhook_url: null, alert_webhook_url: null });
    await report(runtimeReport(project));
    await waitFor(() => slackFor(slack, project).length === 1 && hooksFor(hook, project).length === 1);
  });

  it('honours the event switches', async () => {
    const project = uniqueProject('alert');
    await setAlertSettings(lc, project, { events: { new_bug: false } });
    await report(runtimeReport(project));
    await sweep(lc);
    await time.settled(project);
    expect(hooksFor(hook, project)).toEqual([]);
    expect(slackFor(slack, project)).toEqual([]);
    expect(await time.outbox(project)).toMatchObject([
      { kind: 'new_bug', state: 'suppressed', note: 'new_bug alerts are off for this project' },
    ]);
  });

  it('honours the minimum level', async () => {
    const project = uniqueProject('alert');
    await setAlertSettings(lc, project, { min_level: 'CRITICAL' });
    await report(runtimeReport(project));
    await report(deploymentReport(project));
    await waitFor(() => hooksFor(hook, project).length === 1);
    await time.settled(project);
    expect(hooksFor(hook, project).map((c) => c.body.bug.level)).toEqual(['CRITICAL']);
    const outbox = await time.outbox(project);
    expect(outbox.find((r) => r.state === 'suppressed')?.note).toBe(
      'level ERROR is below the project minimum CRITICAL',
    );
  });

  it('sends a test message on request, reporting each target', async () => {
    const project = uniqueProject('alert');
    await setAlertSettings(lc, project, { alert_webhook_url: `${hook.url}/own` });
    const res = await lc.api(`/api/v1/projects/${project}/alerts/test`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect((await res.json()).results).toEqual(
      expect.arrayContaining([
        { target: 'slack', ok: true },
        { target: 'webhook', ok: true },
      ]),
    );
    expect(hooksFor(hook, project)).toMatchObject([{ path: '/own', body: { event: 'test' } }]);
    expect(slackFor(slack, project)).toHaveLength(1);

    const missing = await lc.api('/api/v1/projects/no-such-project-here/alerts/test', { method: 'POST' });
    expect(missing.status).toBe(404);
  });
});
