import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Bindings } from '../../functions/env';
import { setHostResolver } from '../../functions/lib/outbound';
import { createNodeApp } from '../../functions/server';
import { depsFor } from '../../functions/worker';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, testServerOptions, uniqueProject } from '../helpers/server';
import { clock, LOOPBACK_TARGETS, Receiver, setAlertSettings, waitFor } from './support';

// docs/lifecycle-and-alerts.md: alert targets are outbound requests chosen by whoever holds the API token. This
// server runs WITHOUT ALERT_ALLOW_PRIVATE_TARGETS, as `npm start` does by default.

const receiver = new Receiver();
let lc: LogCenterHandle & { server: Awaited<ReturnType<typeof createNodeApp>> };
beforeAll(async () => {
  await receiver.start();
  lc = await startLogCenterApp();
});
afterAll(async () => {
  await lc.stop();
  await receiver.stop();
});

const putSettings = (project: string, alertSettings: unknown) =>
  lc.api(`/api/v1/projects/${project}`, {
    method: 'PUT',
    body: JSON.stringify({ alert_settings: alertSettings }),
  });

const testAlert = async (project: string) => {
  const res = await lc.api(`/api/v1/projects/${project}/alerts/test`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (await res.json()).results as { target: string; ok: boolean; error?: string }[];
};

describe('setting an alert target', () => {
  it.each([
    'http://127.0.0.1:6379/',
    'http://localhost:8002/api',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://017700000001/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
    'http://[::ffff:127.0.0.1]/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://10.0.0.8/hook',
    'http://192.168.1.1/',
  ])('refuses %s with 422 naming the field', async (url) => {
    const res = await putSettings(uniqueProject('ssrf'), { alert_webhook_url: url });
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([
      { path: 'alert_settings.alert_webhook_url', message: expect.stringContaining('private') },
    ]);
  });

  it.each([
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_FLUSHALL',
    'data:text/plain,hi',
    'javascript:alert(1)',
  ])('refuses the scheme of %s', async (url) => {
    const res = await putSettings(uniqueProject('ssrf'), { slack_webhook_url: url });
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d: { path: string }) => d.path)).toContain('alert_settings.slack_webhook_url');
  });

  it('accepts a public https URL', async () => {
    const res = await putSettings(uniqueProject('ssrf'), {
      slack_webhook_url: 'https://hooks.slack.com/services/T000/B000/XXXX',
    });
    expect(res.status).toBe(200);
  });
});

describe('sending to a target that points inside', () => {
  /** A target stored before the guard existed (or behind a name): written straight to the database. */
  async function storeTarget(project: string, url: string) {
    await setAlertSettings(lc, project, {});
    await lc.server.deps.db.run(
      sql`UPDATE projects SET alert_settings = ${JSON.stringify({ alert_webhook_url: url })} WHERE id = ${project}`,
    );
    lc.server.deps.projectSettings.invalidate(project);
  }

  it('refuses a stored loopback target at send time, for the test message and for alerts', async () => {
    const project = uniqueProject('ssrf');
    await storeTarget(project, `${receiver.url}/hook`);
    expect(await testAlert(project)).toEqual([
      { target: 'webhook', ok: false, error: 'target refused: private address' },
    ]);

    await lc.report(runtimeReport(project));
    const time = clock(lc);
    await waitFor(async () => (await time.outbox(project))[0]?.attempts === 1);
    expect((await time.outbox(project))[0]).toMatchObject({
      state: 'pending',
      last_error: 'webhook: target refused: private address',
    });
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a name that resolves to 127.0.0.1', async () => {
    const project = uniqueProject('ssrf');
    const url = `http://receiver.example.com:${receiver.port}/hook`;
    const res = await putSettings(project, { alert_webhook_url: url });
    expect(res.status).toBe(200);
    const resolve = vi.fn(async () => ['127.0.0.1']);
    const previous = setHostResolver(resolve);
    try {
      expect(await testAlert(project)).toEqual([
        { target: 'webhook', ok: false, error: 'target refused: private address' },
      ]);
    } finally {
      setHostResolver(previous);
    }
    expect(resolve).toHaveBeenCalledWith('receiver.example.com');
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('server-wide targets at start-up', () => {
  it.each([
    ['SLACK_WEBHOOK_URL', 'http://127.0.0.1:9/slack'],
    ['ALERT_WEBHOOK_URL', 'http://169.254.169.254/latest/meta-data/'],
    ['ALERT_WEBHOOK_URL', 'http://metadata.google.internal/'],
    ['SLACK_WEBHOOK_URL', 'gopher://hooks.example.com/'],
  ])('the Node server refuses to start with %s=%s', async (variable, url) => {
    const options = testServerOptions({ env: { [variable]: url } });
    await expect(createNodeApp(options)).rejects.toThrow(variable);
  });

  it('starts with them when ALERT_ALLOW_PRIVATE_TARGETS=true', async () => {
    const options = testServerOptions({
      env: { ...LOOPBACK_TARGETS, SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/slack' },
    });
    const app = await createNodeApp(options);
    await app.close();
  });

  it('the Worker logs such a target and sends nothing to it', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const env = {
        LIBSQL_URL: 'http://libsql.example.com',
        SLACK_WEBHOOK_URL: 'http://169.254.169.254/',
        ALERT_WEBHOOK_URL: 'https://hooks.example.com/alerts',
      } as unknown as Bindings;
      const { config } = depsFor(env, () => {});
      expect(config.SLACK_WEBHOOK_URL).toBeUndefined();
      expect(config.ALERT_WEBHOOK_URL).toBe('https://hooks.example.com/alerts');
      expect(errors.mock.calls.flat().join('\n')).toContain('SLACK_WEBHOOK_URL');
    } finally {
      errors.mockRestore();
    }
  });
});

describe('what the test message tells its caller (private targets allowed)', () => {
  // Receivers on loopback, so this part needs the opt-out; the rules below hold either way.
  let open: LogCenterHandle;
  let redirector: Server;
  let redirectUrl = '';
  let leaky: Server;
  let leakyUrl = '';
  let closedUrl = '';
  beforeAll(async () => {
    open = await startLogCenterApp({ env: LOOPBACK_TARGETS });
    const listen = async (server: Server) => {
      await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    redirector = createServer((_req, res) => res.writeHead(302, { Location: `${receiver.url}/moved` }).end());
    redirectUrl = await listen(redirector);
    leaky = createServer((_req, res) => res.writeHead(500).end('redis_version:7.2.4 secret=hunter2'));
    leakyUrl = await listen(leaky);
    // A port nothing listens on: its error must not differ from any other failure.
    const closed = createServer();
    closedUrl = await listen(closed);
    await new Promise<void>((done) => closed.close(() => done()));
  });
  afterAll(async () => {
    await open.stop();
    for (const server of [redirector, leaky]) {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  async function results(slack: string, webhook: string) {
    const project = uniqueProject('probe');
    await setAlertSettings(open, project, { slack_webhook_url: slack, alert_webhook_url: webhook });
    const res = await open.api(`/api/v1/projects/${project}/alerts/test`, { method: 'POST' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { target: string; ok: boolean; error?: string }[] };
    return Object.fromEntries(body.results.map((r) => [r.target, r]));
  }

  it('does not follow a redirect, and never echoes the answer or names the network error', async () => {
    const before = receiver.requests.length;
    const got = await results(`${redirectUrl}/slack`, `${leakyUrl}/hook`);
    expect(got.slack).toEqual({ target: 'slack', ok: false, error: 'HTTP 302 (redirects are not followed)' });
    expect(receiver.requests.length).toBe(before);
    expect(got.webhook).toEqual({ target: 'webhook', ok: false, error: 'HTTP 500' });

    const closed = await results(`${closedUrl}/slack`, `${closedUrl}/hook`);
    expect(closed.slack).toEqual({ target: 'slack', ok: false, error: 'delivery failed' });
    expect(JSON.stringify(closed)).not.toMatch(/ECONN|127\.0\.0\.1|\d{4,5}/);
  });
});
