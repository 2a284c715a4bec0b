import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import { clock, LOOPBACK_TARGETS, Receiver, setStatus, slackFor, sweep, waitFor } from './support';

// A local HTTP receiver stands in for Slack's incoming webhook. This server turns the
// throttle and the review reminders off, and has no PUBLIC_URL or generic webhook.
const slack = new Receiver();

let lc: LogCenterHandle;
let time: ReturnType<typeof clock>;
beforeAll(async () => {
  await slack.start();
  lc = await startLogCenterApp({
    env: {
      ...LOOPBACK_TARGETS,
      SLACK_WEBHOOK_URL: `${slack.url}/slack`,
      ALERT_THROTTLE_MINUTES: '0',
      REVIEW_REMINDER_HOURS: '0',
    },
  });
  time = clock(lc);
});
afterAll(async () => {
  await lc.stop();
  await slack.stop();
});

describe('server-wide settings set to 0', () => {
  it('ALERT_THROTTLE_MINUTES=0 sends every alert at once', async () => {
    const project = uniqueProject('nothrottle');
    const res = await lc.report(runtimeReport(project));
    const { id } = await res.json();
    await waitFor(() => slackFor(slack, project).length === 1);
    await setStatus(lc, id, 'FAILED', 'gave up');
    await waitFor(() => slackFor(slack, project).length === 2);
    expect(slackFor(slack, project)[1]!.body.text).toContain('Fix failed');
    // Without PUBLIC_URL there is nothing to link to; the only token left is Slack's date.
    const tokens = JSON.stringify(slackFor(slack, project)[1]!.body).match(/<[^>]*>/g) ?? [];
    expect(tokens.every((t) => t.startsWith('<!date^'))).toBe(true);
  });

  it('REVIEW_REMINDER_HOURS=0 sends no reminders, and no "still occurring" without a window', async () => {
    const project = uniqueProject('noreminder');
    const { id } = await (await lc.report(runtimeReport(project))).json();
    await waitFor(() => slackFor(slack, project).length === 1);
    await lc.report(runtimeReport(project));
    await setStatus(lc, id, 'FIXING');
    await setStatus(lc, id, 'PENDING_REVIEW');
    await time.backdateStatus(id, 24 * 30);
    const result = await sweep(lc);
    expect(result).toMatchObject({ reminders_queued: 0, recurring_queued: 0 });
    await time.settled(project);
    expect(slackFor(slack, project)).toHaveLength(1);
  });

  it('purges settled alerts past retention and keeps the rest', async () => {
    const project = uniqueProject('purge');
    await lc.report(runtimeReport(project));
    await waitFor(() => slackFor(slack, project).length === 1);
    await time.settled(project);
    const db = lc.server.deps.db;
    await db.run(
      sql`UPDATE alert_outbox SET created_at = '2000-01-01T00:00:00.000Z' WHERE project_id = ${project}`,
    );
    const result = await sweep(lc);
    expect(result.alerts_purged).toBeGreaterThanOrEqual(1);
    expect(await time.outbox(project)).toEqual([]);
  });
});
