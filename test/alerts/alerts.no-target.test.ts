import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import { hooksFor, LOOPBACK_TARGETS, Receiver, setAlertSettings, waitFor } from './support';

// A server with no SLACK_WEBHOOK_URL or ALERT_WEBHOOK_URL, as `npm start` runs by default.
// A local HTTP receiver stands in for one project's own generic webhook.
const hook = new Receiver();
let lc: LogCenterHandle;
beforeAll(async () => {
  await hook.start();
  lc = await startLogCenterApp({ env: LOOPBACK_TARGETS });
});
afterAll(async () => {
  await lc.stop();
  await hook.stop();
});

const queuedAlerts = async (project: string) =>
  (
    await lc.server.deps.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM alert_outbox WHERE project_id = ${project}`,
    )
  )[0]!.n;

describe('projects without an alert target', () => {
  it('queue nothing for new bugs, and a project that sets a webhook gets its alerts', async () => {
    const silent = uniqueProject('silent');
    const answers = await Promise.all(
      [10, 11, 12].map((line) =>
        lc.report(runtimeReport(silent, { error: { ...runtimeReport(silent).error, line_number: line } })),
      ),
    );
    expect(await Promise.all(answers.map(async (a) => (await a.json()).message))).toEqual(
      Array(3).fill('Log reported'),
    );
    expect(await queuedAlerts(silent)).toBe(0);

    const heard = uniqueProject('heard');
    await lc.report(runtimeReport(heard, { error: { ...runtimeReport(heard).error, line_number: 1 } }));
    await setAlertSettings(lc, heard, { alert_webhook_url: `${hook.url}/hook` });
    const created = await lc.report(
      runtimeReport(heard, { error: { ...runtimeReport(heard).error, line_number: 2 } }),
    );
    expect((await created.json()).message).toBe('Log reported');
    await waitFor(() => hooksFor(hook, heard).length === 1);
    expect(hooksFor(hook, heard)[0]!.body).toMatchObject({
      event: 'new_bug',
      bug: { error: { line_number: 2 } },
    });
    // The bug from before the webhook was set stays unannounced.
    expect(await queuedAlerts(heard)).toBe(1);
  });
});
