import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushAlerts } from '../../functions/services/alerts';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import {
  clock,
  hooksFor,
  LOOPBACK_TARGETS,
  Receiver,
  setAlertSettings,
  slackFor,
  sweep,
  waitFor,
} from './support';

// Local HTTP receivers stand in for Slack's incoming webhook and for the generic webhook;
// they go down, fail and hang on purpose here.
const slack = new Receiver();
const hook = new Receiver();
const flaky = new Receiver();

let lc: LogCenterHandle;
let time: ReturnType<typeof clock>;
beforeAll(async () => {
  await Promise.all([slack.start(), hook.start(), flaky.start()]);
  lc = await startLogCenterApp({
    env: {
      ...LOOPBACK_TARGETS,
      SLACK_WEBHOOK_URL: `${slack.url}/slack`,
      ALERT_WEBHOOK_URL: `${hook.url}/hook`,
      PUBLIC_URL: 'https://log-center.example.com',
      ALERT_THROTTLE_MINUTES: '60',
    },
  });
  time = clock(lc);
});
afterAll(async () => {
  await lc.stop();
  await Promise.all([slack.stop(), hook.stop(), flaky.stop()]);
});

const timedReport = async (body: unknown) => {
  const started = performance.now();
  const res = await lc.report(body);
  return { status: res.status, body: await res.json(), ms: performance.now() - started };
};

describe('a receiver that is down', () => {
  it('does not affect ingestion, and gets the alert once it is back', async () => {
    const project = uniqueProject('down');
    await setAlertSettings(lc, project, { slack_webhook_url: `${flaky.url}/slack` });
    await flaky.stop();

    const answer = await timedReport(runtimeReport(project));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ message: 'Log reported', id: expect.any(Number) });
    // The webhook is up and gets its call; Slack's attempt fails and is queued for a retry.
    await waitFor(() => hooksFor(hook, project).length === 1);
    await time.settled(project);
    const [row] = await time.outbox(project);
    expect(row).toMatchObject({ kind: 'new_bug', state: 'pending', attempts: 1 });
    expect(row!.last_error).toMatch(/^slack: /);

    // Reports keep being answered while the receiver is down.
    for (let i = 0; i < 5; i++) expect((await timedReport(runtimeReport(project))).status).toBe(200);

    await flaky.start();
    await time.retryNow(project);
    const result = await sweep(lc);
    expect(result.alerts_sent).toBeGreaterThanOrEqual(1);
    expect(slackFor(flaky, project)).toHaveLength(1);
    // The target that already took the message does not get it twice.
    expect(hooksFor(hook, project)).toHaveLength(1);
    expect((await time.outbox(project))[0]).toMatchObject({ state: 'sent', attempts: 2, last_error: null });
  });

  it('marks an alert dead after the last retry and logs why', async () => {
    const project = uniqueProject('dead');
    await setAlertSettings(lc, project, {
      slack_webhook_url: `${flaky.url}/slack`,
      alert_webhook_url: `${flaky.url}/hook`,
    });
    flaky.mode = 'fail';
    try {
      await lc.report(runtimeReport(project));
      await waitFor(() => flaky.requests.some((r) => r.status === 500 && r.path === '/hook'));
      let dead = 0;
      for (let attempt = 2; attempt <= 10; attempt++) {
        await time.retryNow(project);
        dead += (await sweep(lc)).alerts_dead;
      }
      expect(dead).toBe(1);
      const [row] = await time.outbox(project);
      expect(row).toMatchObject({ state: 'dead', attempts: 10 });
      // The status only: the receiver's answer is never kept (docs/lifecycle-and-alerts.md).
      expect(row!.last_error).toBe('slack: HTTP 500; webhook: HTTP 500');
      await time.retryNow(project);
      await sweep(lc);
      expect(flaky.requests.filter((r) => r.path === '/hook' && r.body.project?.id === project)).toHaveLength(
        10,
      );
    } finally {
      flaky.mode = 'ok';
    }
  });
});

describe('a receiver that hangs', () => {
  it('never slows POST /api/v1/logs/report', async () => {
    const project = uniqueProject('hang');
    await setAlertSettings(lc, project, { slack_webhook_url: `${flaky.url}/slack` });
    flaky.mode = 'hang';
    try {
      const answers = [];
      for (let i = 0; i < 10; i++) {
        answers.push(
          await timedReport(
            runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: 500 + i } }),
          ),
        );
      }
      expect(answers.every((a) => a.status === 200 && a.body.message === 'Log reported')).toBe(true);
      // Delivery waits up to 5 s for the hanging receiver; every answer came long before that.
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1_000);
      await waitFor(() => hooksFor(hook, project).length >= 1);
    } finally {
      flaky.mode = 'ok';
    }
  });
});

describe('concurrent flushes', () => {
  it('never send the same alert twice', async () => {
    const projects = Array.from({ length: 8 }, () => uniqueProject('race'));
    slack.delayMs = 150;
    hook.delayMs = 150;
    try {
      // Each report defers a flush; the sweeps and a direct flush run at the same time.
      const reports = projects.map((p) => lc.report(runtimeReport(p)));
      const flushes = [
        ...Array.from({ length: 4 }, () => sweep(lc)),
        flushAlerts(lc.server.deps.db, lc.server.deps.config),
        flushAlerts(lc.server.deps.db, lc.server.deps.config),
      ];
      await Promise.all([...reports, ...flushes]);
      await Promise.all([sweep(lc), sweep(lc)]);
      for (const project of projects) await time.settled(project);
    } finally {
      slack.delayMs = 0;
      hook.delayMs = 0;
    }
    for (const project of projects) {
      expect(slackFor(slack, project)).toHaveLength(1);
      expect(hooksFor(hook, project)).toHaveLength(1);
    }
  });
});
