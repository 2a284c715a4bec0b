import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertTargetConfigProblems, parseConfig } from '../../functions/lib/config';
import { AppError } from '../../functions/lib/errors';
import { checkAlertSettings, sendTo } from '../../functions/services/alerts';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import { clock, LOOPBACK_TARGETS, setAlertSettings, setStatus, waitFor } from './support';

// Local HTTP servers speaking the documented robot APIs stand in for DingTalk
// (POST /robot/send?access_token=…[&timestamp=…&sign=…]) and WeCom
// (POST /cgi-bin/webhook/send?key=…). Like the real ones they answer HTTP 200 with
// { errcode, errmsg }: 0 when the message is taken, an error code when it is refused
// (310000 for a bad signature, 300001 for a bad access token, 93000 for a bad key,
// 40008 / 40058 for a body they cannot show).

interface RobotMessage {
  query: URLSearchParams;
  // biome-ignore lint/suspicious/noExplicitAny: checked field by field in the tests
  body: any;
}

class Robot {
  readonly taken: RobotMessage[] = [];
  readonly refused: { errcode: number; query: URLSearchParams }[] = [];
  port = 0;
  private server: Server | null = null;

  constructor(private readonly check: (message: RobotMessage) => number) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => {
        raw += chunk;
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', this.url);
        let errcode: number;
        let body: unknown = null;
        try {
          body = JSON.parse(raw);
          errcode =
            req.method !== 'POST' || req.headers['content-type'] !== 'application/json'
              ? 40035
              : this.check({ query: url.searchParams, body });
        } catch {
          errcode = 40035;
        }
        if (errcode === 0) this.taken.push({ query: url.searchParams, body });
        else this.refused.push({ errcode, query: url.searchParams });
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ errcode, errmsg: errcode === 0 ? 'ok' : 'refused by the test robot' }));
      });
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop() {
    const server = this.server;
    this.server = null;
    server?.closeAllConnections();
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  about(bugId: number) {
    return this.taken.filter((m) => JSON.stringify(m.body).includes(`#${bugId} `));
  }
}

const ACCESS_TOKEN = 'ding-access-token';
const SECRET = 'SECa1b2c3d4e5f6g7h8';
const WECOM_KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';

/** DingTalk's check, recomputed here: base64(HMAC-SHA256(secret, "timestamp\nsecret")), within an hour. */
function dingtalkCheck(secret: string | null) {
  return ({ query, body }: RobotMessage): number => {
    if (query.get('access_token') !== ACCESS_TOKEN) return 300001;
    if (secret) {
      const timestamp = Number(query.get('timestamp'));
      const sign = query.get('sign') ?? '';
      if (!Number.isInteger(timestamp) || Math.abs(Date.now() - timestamp) > 3_600_000) return 310000;
      const expected = Buffer.from(
        createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64'),
      );
      const given = Buffer.from(sign);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 310000;
    }
    if (body?.msgtype !== 'markdown') return 40035;
    const { title, text } = body.markdown ?? {};
    if (typeof title !== 'string' || !title || typeof text !== 'string' || !text) return 40008;
    return 0;
  };
}

function wecomCheck({ query, body }: RobotMessage): number {
  if (query.get('key') !== WECOM_KEY) return 93000;
  if (body?.msgtype !== 'markdown' || typeof body.markdown?.content !== 'string') return 40008;
  if (Buffer.byteLength(body.markdown.content) > 4096) return 40058;
  return 0;
}

const signed = new Robot(dingtalkCheck(SECRET));
const unsigned = new Robot(dingtalkCheck(null));
const wecom = new Robot(wecomCheck);
const PUBLIC_URL = 'https://log-center.example.com';
let lc: LogCenterHandle & { server: Awaited<ReturnType<typeof startLogCenterApp>>['server'] };
let time: ReturnType<typeof clock>;

beforeAll(async () => {
  await Promise.all([signed.start(), unsigned.start(), wecom.start()]);
  lc = await startLogCenterApp({
    env: {
      ...LOOPBACK_TARGETS,
      DINGTALK_WEBHOOK_URL: `${signed.url}/robot/send?access_token=${ACCESS_TOKEN}`,
      DINGTALK_SECRET: SECRET,
      WECOM_WEBHOOK_URL: `${wecom.url}/cgi-bin/webhook/send?key=${WECOM_KEY}`,
      PUBLIC_URL,
    },
  });
  time = clock(lc);
});
afterAll(async () => {
  await lc.stop();
  await Promise.all([signed.stop(), unsigned.stop(), wecom.stop()]);
});

async function newBug(project: string, overrides: Record<string, unknown> = {}): Promise<number> {
  const res = await lc.report(runtimeReport(project, overrides));
  expect(res.status).toBe(200);
  return (await res.json()).id;
}

describe('DingTalk and WeCom robots', () => {
  it('sends a signed DingTalk markdown message and a WeCom one for a new bug and its failure', async () => {
    const project = uniqueProject('robots');
    const id = await newBug(project);
    await waitFor(() => signed.about(id).length === 1 && wecom.about(id).length === 1);

    const [ding] = signed.about(id);
    expect(ding!.query.get('access_token')).toBe(ACCESS_TOKEN);
    expect(Math.abs(Date.now() - Number(ding!.query.get('timestamp')))).toBeLessThan(60_000);
    expect(ding!.body.markdown.title).toBe(`New bug: #${id} ValueError`);
    expect(ding!.body.markdown.text).toContain(`### New bug · ${project.replace(/_/g, '＿')}`);
    expect(ding!.body.markdown.text).toContain(`**[#${id} ValueError](${PUBLIC_URL}/bugs/${id})**`);
    const [we] = wecom.about(id);
    expect(we!.body.markdown.content).toContain(`[Open #${id} in Log Center](${PUBLIC_URL}/bugs/${id})`);
    expect(we!.body.markdown.content).toContain('- Level: ERROR · Source: runtime · Environment: production');

    await setStatus(lc, id, 'FAILED', 'tests still fail');
    await waitFor(() => signed.about(id).length === 2 && wecom.about(id).length === 2);
    expect(signed.about(id)[1]!.body.markdown.text).toContain('- Reason: tests still fail');
    expect(wecom.about(id)[1]!.body.markdown.content).toContain('### Fix failed');
    expect(signed.refused).toEqual([]);
    expect(wecom.refused).toEqual([]);
  });

  it('neutralises hostile report text on the way to both robots', async () => {
    const project = uniqueProject('robots-hostile');
    const id = await newBug(project, {
      error: {
        ...runtimeReport(project).error,
        message:
          '[click](http://evil.test) <font color="warning">red</font> <@all> **bold**\n# Heading\n> quote',
      },
    });
    await waitFor(() => signed.about(id).length === 1 && wecom.about(id).length === 1);
    for (const text of [signed.about(id)[0]!.body.markdown.text, wecom.about(id)[0]!.body.markdown.content]) {
      expect(text).not.toContain('[click](');
      expect(text).not.toContain('<font');
      expect(text).not.toContain('<@all>');
      expect(text).not.toContain('**bold**');
      expect(text).not.toMatch(/\n# Heading/);
      expect(text).toContain(
        '［click］（http://evil.test） ＜font color＝"warning"＞red＜/font＞ ＜＠all＞ ＊＊bold＊＊ ＃ Heading ＞ quote',
      );
    }
  });

  it('is refused by DingTalk with a wrong secret, retries, and reaches it once the secret is right', async () => {
    const project = uniqueProject('robots-secret');
    const own = `${signed.url}/robot/send?access_token=${ACCESS_TOKEN}`;
    await setAlertSettings(lc, project, { dingtalk_webhook_url: own, dingtalk_secret: 'SECwrong' });
    const id = await newBug(project);
    await waitFor(() => wecom.about(id).length === 1);
    await time.settled(project);
    let [row] = await time.outbox(project);
    expect(row!.state).toBe('pending');
    expect(row!.last_error).toBe('dingtalk: errcode 310000');
    expect(signed.about(id)).toHaveLength(0);
    expect(signed.refused.at(-1)!.errcode).toBe(310000);

    await setAlertSettings(lc, project, { dingtalk_webhook_url: own, dingtalk_secret: SECRET });
    await time.retryNow(project);
    await lc.api('/api/v1/admin/sweep', { method: 'POST' });
    await waitFor(() => signed.about(id).length === 1);
    [row] = await time.outbox(project);
    expect(row!.state).toBe('sent');
    expect(row!.attempts).toBe(2);
    // WeCom took it the first time; the retry went to DingTalk only.
    expect(wecom.about(id)).toHaveLength(1);
  });

  it("calls a project's own unsigned robot without a signature, and not the server's", async () => {
    const project = uniqueProject('robots-own');
    await setAlertSettings(lc, project, {
      dingtalk_webhook_url: `${unsigned.url}/robot/send?access_token=${ACCESS_TOKEN}`,
    });
    const id = await newBug(project);
    await waitFor(() => unsigned.about(id).length === 1);
    await time.settled(project);
    const [message] = unsigned.about(id);
    // The server's secret belongs to the server's robot.
    expect(message!.query.has('sign')).toBe(false);
    expect(message!.query.has('timestamp')).toBe(false);
    expect(signed.about(id)).toHaveLength(0);
  });

  it('counts a robot error code as a failure in the test route, and a wrong key too', async () => {
    const project = uniqueProject('robots-test');
    await setAlertSettings(lc, project, {
      dingtalk_webhook_url: `${signed.url}/robot/send?access_token=wrong`,
      wecom_webhook_url: `${wecom.url}/cgi-bin/webhook/send?key=${WECOM_KEY}`,
    });
    const res = await lc.api(`/api/v1/projects/${project}/alerts/test`, { method: 'POST' });
    const { results } = await res.json();
    expect(results).toEqual(
      expect.arrayContaining([
        { target: 'dingtalk', ok: false, error: 'errcode 300001' },
        { target: 'wecom', ok: true },
      ]),
    );
    expect(JSON.stringify(results)).not.toContain('refused by the test robot');
    expect(wecom.taken.at(-1)!.body.markdown.content).toContain(
      `Test message: alerts for ${project.replace(/_/g, '＿')} reach this channel.`,
    );
  });

  it('keeps a message centre row for every robot alert', async () => {
    const project = uniqueProject('robots-centre');
    const id = await newBug(project);
    await waitFor(() => signed.about(id).length === 1);
    const rows = await lc.server.deps.db.all<{ kind: string; title: string }>(
      sql`SELECT kind, title FROM notifications WHERE bug_id = ${id}`,
    );
    expect(rows).toEqual([{ kind: 'new_bug', title: `New bug #${id}: ValueError` }]);
  });
});

describe('robot targets behind the outbound guard', () => {
  const config = parseConfig({});

  it('refuses private robot URLs in project settings and server variables', () => {
    let error: unknown;
    try {
      checkAlertSettings(config, {
        dingtalk_webhook_url: 'http://127.0.0.1:9/robot/send',
        wecom_webhook_url: 'http://169.254.169.254/cgi-bin/webhook/send',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).extra.details).toEqual([
      { path: 'alert_settings.dingtalk_webhook_url', message: expect.stringContaining('private') },
      { path: 'alert_settings.wecom_webhook_url', message: expect.stringContaining('private') },
    ]);
    const problems = alertTargetConfigProblems(
      parseConfig({
        DINGTALK_WEBHOOK_URL: 'http://10.0.0.2/robot/send',
        WECOM_WEBHOOK_URL: 'http://[::1]/x',
      }),
    );
    expect(problems.map((p) => p.variable)).toEqual(['DINGTALK_WEBHOOK_URL', 'WECOM_WEBHOOK_URL']);
  });

  it('refuses a robot whose name resolves inside at send time, before any request', async () => {
    let requests = 0;
    const counting = (async () => {
      requests++;
      return new Response('{"errcode":0}');
    }) as unknown as typeof fetch;
    const options = { config, fetch: counting, timeoutMs: 1_000, resolve: async () => ['192.168.1.20'] };
    const body = { msgtype: 'markdown', markdown: { title: 't', text: 't' } };
    const ding = await sendTo(
      'dingtalk',
      { dingtalk: { url: 'https://oapi.dingtalk.example/robot/send?access_token=x', secret: 's' } },
      body,
      options,
    );
    const we = await sendTo(
      'wecom',
      { wecom: 'https://qyapi.weixin.example/cgi-bin/webhook/send?key=k' },
      body,
      options,
    );
    expect(ding).toMatchObject({ ok: false, error: 'target refused: private address' });
    expect(we).toMatchObject({ ok: false, error: 'target refused: private address' });
    expect(requests).toBe(0);
  });

  it('takes an answer that is not { errcode } as a failure', async () => {
    const html = (async () => new Response('<html>proxy error</html>')) as unknown as typeof fetch;
    const outcome = await sendTo(
      'wecom',
      { wecom: 'https://qyapi.weixin.example/cgi-bin/webhook/send?key=k' },
      { msgtype: 'markdown', markdown: { content: 'x' } },
      { config, fetch: html, timeoutMs: 1_000, resolve: async () => ['93.184.216.34'] },
    );
    expect(outcome).toMatchObject({ ok: false, error: 'unexpected answer' });
  });
});
