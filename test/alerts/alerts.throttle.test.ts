import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import { clock, hooksFor, LOOPBACK_TARGETS, Receiver, setStatus, slackFor, sweep, waitFor } from './support';

// Local HTTP receivers stand in for Slack's incoming webhook and for the generic webhook.
const slack = new Receiver();
const hook = new Receiver();

let lc: LogCenterHandle;
let time: ReturnType<typeof clock>;
beforeAll(async () => {
  await Promise.all([slack.start(), hook.start()]);
  lc = await startLogCenterApp({
    env: {
      ...LOOPBACK_TARGETS,
      SLACK_WEBHOOK_URL: `${slack.url}/slack`,
      ALERT_WEBHOOK_URL: `${hook.url}/hook`,
      PUBLIC_URL: 'https://log-center.example.com/',
      ALERT_THROTTLE_MINUTES: '60',
    },
  });
  time = clock(lc);
});
afterAll(async () => {
  await lc.stop();
  await Promise.all([slack.stop(), hook.stop()]);
});

async function report(body: unknown): Promise<{ id: number; message: string }> {
  const res = await lc.report(body);
  expect(res.status).toBe(200);
  return res.json();
}

/** Takes a bug to DEPLOYED the way people and the pipeline do, without PR alerts. */
async function deploy(id: number) {
  for (const status of ['FIXING', 'PENDING_REVIEW', 'MERGED', 'DEPLOYED']) await setStatus(lc, id, status);
}

describe('throttle', () => {
  it('sends nothing more for 50 occurrences inside the window, then one alert that counts them', async () => {
    const project = uniqueProject('throttle');
    const { id } = await report(runtimeReport(project));
    await waitFor(() => slackFor(slack, project).length === 1 && hooksFor(hook, project).length === 1);

    for (let i = 0; i < 50; i++)
      expect((await report(runtimeReport(project))).message).toBe('Log deduplicated');
    await sweep(lc);
    await time.settled(project);
    expect(slackFor(slack, project)).toHaveLength(1);
    expect(hooksFor(hook, project)).toHaveLength(1);

    // The window has passed and the bug kept occurring: one "still occurring" alert.
    await time.endWindow(id);
    const result = await sweep(lc);
    expect(result.recurring_queued).toBe(1);
    expect(hooksFor(hook, project)).toHaveLength(2);
    expect(hooksFor(hook, project)[1]!.body).toMatchObject({
      event: 'recurring',
      occurrences_since_last_alert: 50,
      bug: { id, occurrence_count: 51 },
      url: `https://log-center.example.com/bugs/${id}`,
    });
    const message = slackFor(slack, project)[1]!.body;
    expect(message.text).toContain('+50 since last alert');
    expect(JSON.stringify(message.blocks)).toContain('Still occurring');

    // Nothing new since: no further alert, however often the sweep runs.
    await time.endWindow(id);
    expect((await sweep(lc)).recurring_queued).toBe(0);
    expect(hooksFor(hook, project)).toHaveLength(2);
  });

  it('doubles the wait between "still occurring" alerts for a bug that never stops', async () => {
    const project = uniqueProject('throttle');
    const { id } = await report(runtimeReport(project));
    await waitFor(() => hooksFor(hook, project).length === 1);
    const db = lc.server.deps.db;
    const lastAlertHoursAgo = (hours: number) =>
      db.run(
        sql`UPDATE alert_throttle SET last_alert_at = ${new Date(Date.now() - hours * 3_600_000).toISOString()} WHERE bug_id = ${id}`,
      );

    await report(runtimeReport(project));
    await lastAlertHoursAgo(1.1);
    expect((await sweep(lc)).recurring_queued).toBe(1);
    // One "still occurring" alert in a row: the next waits two windows.
    await report(runtimeReport(project));
    await lastAlertHoursAgo(1.5);
    expect((await sweep(lc)).recurring_queued).toBe(0);
    await lastAlertHoursAgo(2.1);
    expect((await sweep(lc)).recurring_queued).toBe(1);
    expect(hooksFor(hook, project).map((c) => c.body.event)).toEqual(['new_bug', 'recurring', 'recurring']);
  });
});

describe('regression', () => {
  it('alerts at once when the bug had no alert inside the window', async () => {
    const project = uniqueProject('regress');
    const { id } = await report(runtimeReport(project));
    await waitFor(() => hooksFor(hook, project).length === 1);
    await deploy(id);
    await time.endWindow(id);

    expect((await report(runtimeReport(project))).message).toBe('Regression detected, reopened');
    await waitFor(() => hooksFor(hook, project).length === 2);
    expect(hooksFor(hook, project)[1]!.body).toMatchObject({
      event: 'regression',
      bug: { id, status: 'NEW', regression_count: 1, occurrence_count: 2 },
      occurrences_since_last_alert: 1,
    });
    const text = JSON.stringify(slackFor(slack, project)[1]!.body);
    expect(text).toContain('Regression');
    expect(text).toContain('*Regressions*\\n1');
  });

  // docs/lifecycle-and-alerts.md: a change of state is news, not noise. This case used to expect the regression
  // held until the window of the bug's first alert ended; it now expects it at once.
  it('sends a regression inside the window at once, with the count; occurrence alerts stay held', async () => {
    const project = uniqueProject('regress');
    const { id } = await report(runtimeReport(project));
    await waitFor(() => hooksFor(hook, project).length === 1);
    await deploy(id);
    // Twenty minutes after the first alert, well inside its 60-minute window.
    expect((await report(runtimeReport(project))).message).toBe('Regression detected, reopened');
    await waitFor(() => hooksFor(hook, project).length === 2);
    expect(hooksFor(hook, project)[1]!.body).toMatchObject({
      event: 'regression',
      bug: { id, status: 'NEW', regression_count: 1 },
      occurrences_since_last_alert: 1,
    });
    expect(slackFor(slack, project)[1]!.body.text).toContain('+1 since last alert');
    await time.settled(project);
    expect((await time.outbox(project)).map((r) => [r.kind, r.state])).toEqual([
      ['new_bug', 'sent'],
      ['pr_opened', 'suppressed'], // opt-in, off for this project
      ['merged', 'suppressed'], // opt-in too
      ['regression', 'sent'],
    ]);

    // An occurrence alert for the same bug inside the window still waits for it to end.
    const now = new Date().toISOString();
    await lc.server.deps.db.run(
      sql`INSERT INTO alert_outbox (bug_id, project_id, kind, state, attempts, next_attempt_at, created_at)
          VALUES (${id}, ${project}, 'recurring', 'pending', 0, ${now}, ${now})`,
    );
    await sweep(lc);
    await time.settled(project);
    expect(hooksFor(hook, project)).toHaveLength(2);
    expect((await time.outbox(project)).at(-1)).toMatchObject({
      kind: 'recurring',
      state: 'pending',
      note: 'throttled: one alert per bug per window',
    });

    // So does nothing stop a failure inside the same window.
    await setStatus(lc, id, 'FIXING');
    await setStatus(lc, id, 'FAILED', 'tests still fail');
    await waitFor(() => hooksFor(hook, project).length === 3);
    expect(hooksFor(hook, project)[2]!.body).toMatchObject({
      event: 'failed',
      bug: { id, status: 'FAILED' },
    });
  });
});

describe('digest', () => {
  it('turns a burst of new bugs from one project into one digest message', async () => {
    const project = uniqueProject('burst');
    const other = uniqueProject('burst');
    const burst = Array.from({ length: 30 }, (_, i) =>
      report(runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: 1000 + i } })),
    );
    const ids = (await Promise.all(burst)).map((r) => r.id);
    // Another project's new bug in the same minute is its own message.
    await report(runtimeReport(other));
    await waitFor(() => hooksFor(hook, other).length === 1);
    await sweep(lc);
    await time.settled(project);
    // However the burst was split across flushes, at most one message went out this minute.
    expect(hooksFor(hook, project).length).toBeLessThanOrEqual(1);

    await time.endDigestWindow(project);
    await sweep(lc);
    const calls = hooksFor(hook, project);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(2);
    const digest = calls.find((c) => c.body.event === 'new_bug_digest')!;
    expect(digest.body.count).toBeGreaterThan(1);
    expect(digest.body.url).toBe(`https://log-center.example.com/?project=${project}`);
    // Every bug is announced exactly once, in one message or the other.
    const announced = calls.flatMap((c) => (c.body.bugs ?? [c.body.bug]).map((b: { id: number }) => b.id));
    expect(announced.sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));

    const slackDigest = slackFor(slack, project).find((m) => m.body.text.includes('new bugs'))!;
    expect(slackDigest.body.text).toContain(`${digest.body.count} new bugs in ${project}`);
    const blocks = JSON.stringify(slackDigest.body.blocks);
    // Ten bugs are listed; the rest are counted.
    if (digest.body.count > 10) expect(blocks).toContain(`…and ${digest.body.count - 10} more`);
    expect(blocks).toContain(
      `<https://log-center.example.com/?project=${project}|Open ${project} in Log Center>`,
    );
    expect(slackFor(slack, project).length).toBe(calls.length);
  });
});
