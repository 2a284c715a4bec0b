import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertTargetConfigProblems, parseConfig } from '../../functions/lib/config';
import { type Mailer, setMailer } from '../../functions/lib/mail';
import { sendTestAlert, sendTo } from '../../functions/services/alerts';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import {
  clock,
  hooksFor,
  LOOPBACK_TARGETS,
  Receiver,
  setAlertSettings,
  setStatus,
  sweep,
  waitFor,
} from './support';

// A real SMTP server (the `smtp-server` package) on 127.0.0.1 stands in for the relay:
// Log Center's nodemailer client speaks SMTP to it, authenticates, and the messages it accepts
// are parsed with `mailparser` as a mail client would. No SMTP relay can run here otherwise.

interface Received {
  from: string;
  to: string[];
  mail: ParsedMail;
}

class SmtpInbox {
  readonly received: Received[] = [];
  readonly logins: string[] = [];
  port = 0;
  private server: SMTPServer | null = null;

  async start(): Promise<this> {
    const server = new SMTPServer({
      // The test relay speaks plain SMTP with AUTH, as a relay on a trusted network would.
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth: (auth, _session, done) => {
        if (auth.username === 'alerts' && auth.password === 'p@ss:word') {
          this.logins.push(auth.username);
          done(null, { user: auth.username });
        } else done(new Error('Invalid username or password'));
      },
      onData: (stream, session, done) => {
        simpleParser(stream).then(
          (mail) => {
            this.received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              mail,
            });
            done();
          },
          (error) => done(error),
        );
      },
    });
    await new Promise<void>((ready) => server.listen(this.port, '127.0.0.1', ready));
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  about(bugId: number): Received[] {
    return this.received.filter((r) => r.mail.subject?.includes(`#${bugId} `));
  }
}

const inbox = new SmtpInbox();
const hook = new Receiver();
const PUBLIC_URL = 'https://log-center.example.com';
let lc: LogCenterHandle & { server: Awaited<ReturnType<typeof startLogCenterApp>>['server'] };
let time: ReturnType<typeof clock>;

beforeAll(async () => {
  await Promise.all([inbox.start(), hook.start()]);
  lc = await startLogCenterApp({
    env: {
      ...LOOPBACK_TARGETS,
      // The password has characters that must be URL-encoded; the client must decode them.
      SMTP_URL: `smtp://alerts:${encodeURIComponent('p@ss:word')}@127.0.0.1:${inbox.port}`,
      ALERT_EMAIL_FROM: 'Log Center <alerts@log-center.test>',
      ALERT_EMAIL_TO: 'ops@team.test, lead@team.test',
      PUBLIC_URL,
    },
  });
  time = clock(lc);
});
afterAll(async () => {
  await lc.stop();
  await Promise.all([inbox.stop(), hook.stop()]);
});

async function newBug(project: string, overrides: Record<string, unknown> = {}): Promise<number> {
  const res = await lc.report(runtimeReport(project, overrides));
  expect(res.status).toBe(200);
  return (await res.json()).id;
}

async function toReview(id: number, prNumber: number) {
  await setStatus(lc, id, 'FIXING');
  const pr = new URLSearchParams({
    pr_number: String(prNumber),
    pr_url: `https://git.example.com/team/shop/pulls/${prNumber}`,
    branch_name: `fix/auto-${id}`,
  });
  const res = await lc.api(`/api/v1/bugs/${id}/pr-info?${pr}`, { method: 'PUT' });
  expect(res.status).toBe(200);
  await setStatus(lc, id, 'PENDING_REVIEW', 'PR opened');
}

const html = (r: Received) => (typeof r.mail.html === 'string' ? r.mail.html : '');

describe('email alerts over SMTP', () => {
  it('mails pr_opened, merged and failed to the server recipients, and never a new bug', async () => {
    const project = uniqueProject('mail');
    await setAlertSettings(lc, project, {
      alert_webhook_url: `${hook.url}/hook`,
      events: { pr_opened: true, merged: true },
    });
    const id = await newBug(project);
    // The new bug reaches the webhook; email is not for new bugs.
    await waitFor(() => hooksFor(hook, project).length === 1);

    await toReview(id, 12);
    await waitFor(() => inbox.about(id).length === 1);
    const [review] = inbox.about(id);
    expect(review!.from).toBe('alerts@log-center.test');
    expect(review!.to.sort()).toEqual(['lead@team.test', 'ops@team.test']);
    expect(review!.mail.from?.value).toEqual([{ name: 'Log Center', address: 'alerts@log-center.test' }]);
    expect(review!.mail.subject).toBe(`[Log Center] Fix ready for review: #${id} ValueError in ${project}`);
    expect(review!.mail.text).toContain('Pull request: #12 https://git.example.com/team/shop/pulls/12');
    expect(review!.mail.text).toContain(`Open #${id} in Log Center: ${PUBLIC_URL}/bugs/${id}`);
    expect(html(review!)).toContain(`<a href="${PUBLIC_URL}/bugs/${id}">#${id} ValueError</a>`);

    await setStatus(lc, id, 'MERGED', 'merged by a person');
    await waitFor(() => inbox.about(id).length === 2);
    const merged = inbox.about(id)[1]!;
    expect(merged.mail.subject).toBe(`[Log Center] Fix merged: #${id} ValueError in ${project}`);
    expect(merged.mail.text).toContain('Status: MERGED');

    await setStatus(lc, id, 'FAILED', 'the fix broke checkout');
    await waitFor(() => inbox.about(id).length === 3);
    const failed = inbox.about(id)[2]!;
    expect(failed.mail.subject).toBe(`[Log Center] Fix failed: #${id} ValueError in ${project}`);
    expect(failed.mail.text).toContain('Reason: the fix broke checkout');
    expect(html(failed)).toContain('<strong>Reason</strong><br>the fix broke checkout');

    await time.settled(project);
    // Every SMTP session logged in with the credentials from SMTP_URL.
    expect(inbox.logins.length).toBeGreaterThanOrEqual(3);
    expect(inbox.logins.every((u) => u === 'alerts')).toBe(true);
    // Exactly three emails for the bug; the new bug, the webhook's, has none.
    expect(inbox.about(id)).toHaveLength(3);
    expect(hooksFor(hook, project).map((h) => h.body.event)).toEqual([
      'new_bug',
      'pr_opened',
      'merged',
      'failed',
    ]);
  });

  it("sends a project's own recipients instead of the server's, and nothing when an event is off", async () => {
    const project = uniqueProject('mail-own');
    await setAlertSettings(lc, project, { email_recipients: ['dev@team.test'] });
    const id = await newBug(project);
    // pr_opened is off by default: no email for it, the failure is mailed.
    await toReview(id, 3);
    await time.settled(project);
    await setStatus(lc, id, 'FAILED', 'closed unmerged');
    await waitFor(() => inbox.about(id).length === 1);
    await time.settled(project);
    const [only] = inbox.about(id);
    expect(only!.mail.subject).toContain('Fix failed');
    expect(only!.to).toEqual(['dev@team.test']);
    const rows = await time.outbox(project);
    expect(rows.map((r) => [r.kind, r.state, r.note])).toEqual([
      // Queued because the project has a target, which does not take new bugs.
      [
        'new_bug',
        'suppressed',
        'no alert target takes new_bug (email carries only pr_opened, merged and failed)',
      ],
      ['pr_opened', 'suppressed', 'pr_opened alerts are off for this project'],
      ['failed', 'sent', null],
    ]);
  });

  it('escapes hostile report text in the HTML part and keeps it out of the headers', async () => {
    const project = uniqueProject('mail-hostile');
    const id = await newBug(project, {
      error: {
        ...runtimeReport(project).error,
        type: 'Evil<b>Type</b>\r\nBcc: attacker@evil.test',
        message: '<script>alert(1)</script> <img src=x onerror=alert(2)> & "quoted"',
      },
    });
    await setStatus(lc, id, 'FAILED', '<a href="http://evil.test">click me</a>');
    await waitFor(() => inbox.about(id).length === 1);
    const [mail] = inbox.about(id);
    expect(mail!.to.sort()).toEqual(['lead@team.test', 'ops@team.test']);
    expect(mail!.mail.bcc).toBeUndefined();
    expect(mail!.mail.headers.has('bcc')).toBe(false);
    expect(mail!.mail.subject).not.toMatch(/[\r\n]/);
    const body = html(mail!);
    expect(body).not.toContain('<script>');
    expect(body).not.toContain('<img');
    expect(body).not.toContain('<b>Type');
    expect(body).not.toContain('href="http://evil.test"');
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).toContain('&lt;a href=&quot;http://evil.test&quot;&gt;click me&lt;/a&gt;');
    // The plain-text part carries the text as reported.
    expect(mail!.mail.text).toContain('<script>alert(1)</script>');
  });

  it('retries while the relay is down, without posting the webhook again, then gives up: nothing is lost', async () => {
    const project = uniqueProject('mail-down');
    await setAlertSettings(lc, project, { alert_webhook_url: `${hook.url}/hook` });
    const lost = await newBug(project, { error: { ...runtimeReport(project).error, line_number: 1 } });
    const kept = await newBug(project, { error: { ...runtimeReport(project).error, line_number: 2 } });
    await time.settled(project);
    await inbox.stop();
    try {
      await setStatus(lc, lost, 'FAILED', 'first failure');
      await time.settled(project);
      let [row] = (await time.outbox(project)).filter((r) => r.bug_id === lost && r.kind === 'failed');
      expect(row!.state).toBe('pending');
      expect(row!.attempts).toBe(1);
      expect(row!.last_error).toBe('email: delivery failed');
      // The webhook took the message on the first attempt; retries go to email only.
      expect(
        hooksFor(hook, project).filter((h) => h.body.bug?.id === lost && h.body.event === 'failed'),
      ).toHaveLength(1);

      for (let attempt = 2; attempt <= 10; attempt++) {
        await time.retryNow(project);
        await sweep(lc);
        [row] = (await time.outbox(project)).filter((r) => r.bug_id === lost && r.kind === 'failed');
        expect(row!.attempts).toBe(attempt);
      }
      expect(row!.state).toBe('dead');
      expect(row!.last_error).toBe('email: delivery failed');
      expect(
        hooksFor(hook, project).filter((h) => h.body.bug?.id === lost && h.body.event === 'failed'),
      ).toHaveLength(1);

      // Another failure while the relay is still down waits for it.
      await setStatus(lc, kept, 'FAILED', 'second failure');
      await time.settled(project);
      [row] = (await time.outbox(project)).filter((r) => r.bug_id === kept && r.kind === 'failed');
      expect(row!.state).toBe('pending');
    } finally {
      await inbox.start();
    }
    await time.retryNow(project);
    await sweep(lc);
    await waitFor(() => inbox.about(kept).length === 1);
    const [row] = (await time.outbox(project)).filter((r) => r.bug_id === kept && r.kind === 'failed');
    expect(row!.state).toBe('sent');
    expect(row!.attempts).toBe(2);
    expect(inbox.about(kept)[0]!.mail.text).toContain('Reason: second failure');
    expect(inbox.about(lost)).toHaveLength(0);
    // Both failures are in the message centre whatever happened to the email.
    const notes = await lc.server.deps.db.all<{ bug_id: number; kind: string }>(
      sql`SELECT bug_id, kind FROM notifications WHERE project_id = ${project} AND kind = 'failed' ORDER BY id`,
    );
    expect(notes).toEqual([
      { bug_id: lost, kind: 'failed' },
      { bug_id: kept, kind: 'failed' },
    ]);
  });

  it('skips email with a logged reason where no SMTP client is installed (the Worker)', async () => {
    const project = uniqueProject('mail-worker');
    await setAlertSettings(lc, project, { alert_webhook_url: `${hook.url}/hook` });
    const id = await newBug(project);
    await time.settled(project);
    const installed = setMailer(null);
    try {
      await setStatus(lc, id, 'FAILED', 'no mail here');
      await waitFor(() => hooksFor(hook, project).some((h) => h.body.event === 'failed'));
      await time.settled(project);
      const [row] = (await time.outbox(project)).filter((r) => r.kind === 'failed');
      expect(row!.state).toBe('sent');
      expect(row!.note).toMatch(/^email skipped: email is sent by the Node server only/);

      const [project_row] = await lc.server.deps.db.all<{ id: string }>(
        sql`SELECT id FROM projects WHERE id = ${project}`,
      );
      expect(project_row).toBeDefined();
      const res = await lc.api(`/api/v1/projects/${project}/alerts/test`, { method: 'POST' });
      const { results } = await res.json();
      expect(results).toContainEqual({
        target: 'email',
        ok: false,
        skipped: true,
        reason: expect.stringContaining('Node server only'),
      });
      expect(results).toContainEqual({ target: 'webhook', ok: true });
    } finally {
      setMailer(installed);
    }
    expect(inbox.about(id)).toHaveLength(0);
  });

  it('sends a test email from the project settings', async () => {
    const project = uniqueProject('mail-test');
    await setAlertSettings(lc, project, { email_recipients: ['qa@team.test'] });
    const res = await lc.api(`/api/v1/projects/${project}/alerts/test`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect((await res.json()).results).toEqual([{ target: 'email', ok: true }]);
    const mail = inbox.received.find((r) => r.mail.subject === `[Log Center] Test message for ${project}`);
    expect(mail?.to).toEqual(['qa@team.test']);
    expect(mail?.mail.text).toContain(`Test message: alerts for ${project} reach this channel.`);
  });
});

describe('the SMTP relay behind the outbound guard', () => {
  const config = parseConfig({
    SMTP_URL: 'smtp://relay.example.test:2525',
    ALERT_EMAIL_FROM: 'alerts@log-center.test',
    ALERT_EMAIL_TO: 'ops@team.test',
  });
  const body = { subject: 's', text: 't', html: '<p>t</p>' };
  const targets = { email: ['ops@team.test'] };

  // A recording sender: the point here is which address would be dialled, which no real
  // relay on this machine (loopback only) could show.
  function recorder() {
    const calls: Parameters<Mailer>[] = [];
    const mailer: Mailer = async (...args) => {
      calls.push(args);
    };
    return { calls, mailer };
  }

  it('refuses a relay whose name resolves to a private address, and sends nothing', async () => {
    const { calls, mailer } = recorder();
    const outcome = await sendTo('email', targets, body, {
      config,
      fetch,
      timeoutMs: 1_000,
      mailer,
      resolve: async () => ['93.184.216.34', '10.0.0.7'],
    });
    expect(outcome).toEqual({
      ok: false,
      error: 'target refused: private address',
      detail: 'SMTP relay: relay.example.test resolves to 10.0.0.7',
    });
    expect(calls).toHaveLength(0);
  });

  it('dials the checked address, keeping the name for TLS', async () => {
    const { calls, mailer } = recorder();
    const outcome = await sendTo('email', targets, body, {
      config,
      fetch,
      timeoutMs: 1_000,
      mailer,
      resolve: async () => ['93.184.216.34'],
    });
    expect(outcome).toEqual({ ok: true });
    expect(calls[0]![0]).toEqual({ url: 'smtp://relay.example.test:2525', connectTo: '93.184.216.34' });
    expect(calls[0]![1]).toEqual({ from: 'alerts@log-center.test', to: ['ops@team.test'], ...body });
  });

  it('refuses a literal private relay at start-up unless ALERT_ALLOW_PRIVATE_TARGETS is set', () => {
    const env = { SMTP_URL: 'smtp://127.0.0.1:25', ALERT_EMAIL_FROM: 'a@b.test' };
    expect(alertTargetConfigProblems(parseConfig(env))).toEqual([
      expect.objectContaining({ variable: 'SMTP_URL', message: expect.stringContaining('private') }),
    ]);
    expect(alertTargetConfigProblems(parseConfig({ ...env, ALERT_ALLOW_PRIVATE_TARGETS: 'true' }))).toEqual(
      [],
    );
  });

  it('validates the email variables', () => {
    const bad = (env: Record<string, string>) => () => parseConfig(env);
    expect(bad({ SMTP_URL: 'http://mail.example.test' })).toThrow(/SMTP_URL: must be an smtp/);
    expect(
      bad({ SMTP_URL: 'smtp://mail.example.test?proxy=http://10.0.0.1', ALERT_EMAIL_FROM: 'a@b.test' }),
    ).toThrow(/SMTP_URL: takes no path or query/);
    expect(bad({ SMTP_URL: 'smtp://mail.example.test' })).toThrow(
      /ALERT_EMAIL_FROM: is required when SMTP_URL is set/,
    );
    expect(bad({ ALERT_EMAIL_FROM: 'not an address' })).toThrow(/ALERT_EMAIL_FROM/);
    expect(bad({ ALERT_EMAIL_FROM: 'Name <a@b.test>\r\nBcc: x@y.test' })).toThrow(/ALERT_EMAIL_FROM/);
    expect(bad({ ALERT_EMAIL_TO: 'ops@team.test, nope' })).toThrow(/ALERT_EMAIL_TO/);
    const good = parseConfig({
      SMTP_URL: 'smtps://u:p@mail.example.test:465',
      ALERT_EMAIL_FROM: 'Log Center <alerts@example.test>',
      ALERT_EMAIL_TO: ' ops@team.test ,, lead@team.test ',
    });
    expect(good.ALERT_EMAIL_TO).toEqual(['ops@team.test', 'lead@team.test']);
  });

  it('answers a skipped target in the test route on a runtime without a sender', async () => {
    const results = await sendTestAlert(
      {
        ...config,
        SLACK_WEBHOOK_URL: undefined,
        ALERT_WEBHOOK_URL: undefined,
        ALERT_THROTTLE_MINUTES: 60,
        PUBLIC_URL: undefined,
      },
      {
        id: 'p',
        name: null,
        alertSettings: null,
      } as unknown as Parameters<typeof sendTestAlert>[1],
      { mailer: null, log: () => {} },
    );
    expect(results).toEqual([
      { target: 'email', ok: false, skipped: true, reason: expect.stringContaining('Node server only') },
    ]);
  });
});
