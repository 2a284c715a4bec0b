import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SQL, sql } from 'drizzle-orm';
import type { LogCenterHandle } from '../helpers/server';

/**
 * The receivers below listen on loopback, which alert targets may not point at by default
 * (docs/lifecycle-and-alerts.md): suites that post to them opt out as an on-premises setup would. The guard
 * itself is tested without it (alerts.outbound.test.ts).
 */
export const LOOPBACK_TARGETS = { ALERT_ALLOW_PRIVATE_TARGETS: 'true' } as const;

export interface Received {
  path: string;
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the bodies are checked field by field in the tests
  body: any;
}

/**
 * A real HTTP server on 127.0.0.1 standing in for Slack's incoming webhook or for the
 * generic alert webhook. It records every POST and can be taken down, made to fail, or
 * made to hang, the ways real receivers misbehave.
 */
export class Receiver {
  readonly requests: Received[] = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** Answer after this long, so concurrent senders overlap. */
  delayMs = 0;
  port = 0;
  private server: Server | null = null;
  private readonly hung = new Set<ServerResponse>();

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on a random port, or on the same one again after `stop()`. */
  async start(): Promise<this> {
    const server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => {
        raw += chunk;
      });
      req.on('end', () => {
        if (this.mode === 'hang') {
          this.hung.add(res);
          return;
        }
        const status = this.mode === 'fail' ? 500 : 200;
        setTimeout(() => {
          this.requests.push({ path: req.url ?? '', status, body: JSON.parse(raw) });
          res
            .writeHead(status, { 'Content-Type': 'text/plain' })
            .end(status === 200 ? 'ok' : 'receiver_error');
        }, this.delayMs);
      });
    });
    await new Promise<void>((ready) => server.listen(this.port, '127.0.0.1', ready));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }

  /** Successful deliveries, in arrival order. */
  get delivered(): Received[] {
    return this.requests.filter((r) => r.status === 200);
  }
}

/** Slack messages naming the project: its id is set in bold in every heading. */
export const slackFor = (receiver: Receiver, project: string) =>
  receiver.delivered.filter((r) => JSON.stringify(r.body.blocks ?? []).includes(`*${project}*`));

export const hooksFor = (receiver: Receiver, project: string) =>
  receiver.delivered.filter((r) => r.body.project?.id === project);

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const LONG_AGO = '2000-01-01T00:00:00.000Z';

/** Database shortcuts for what would otherwise take an hour of waiting. */
export function clock(lc: LogCenterHandle) {
  const db = lc.server.deps.db;
  // A flush still sending would write its own times back afterwards; let it finish first.
  const idle = (where: SQL) =>
    waitFor(async () => {
      const [row] = await db.all<{ n: number }>(
        sql`SELECT count(*) AS n FROM alert_outbox WHERE state = 'sending' AND ${where}`,
      );
      return row!.n === 0;
    });
  return {
    /** The bug's throttle window ends now; alerts it held become due. */
    async endWindow(bugId: number) {
      await idle(sql`bug_id = ${bugId}`);
      await db.run(sql`UPDATE alert_throttle SET last_alert_at = ${LONG_AGO} WHERE bug_id = ${bugId}`);
      await db.run(
        sql`UPDATE alert_outbox SET next_attempt_at = ${LONG_AGO} WHERE bug_id = ${bugId} AND state = 'pending'`,
      );
    },
    /** The project's new-bug digest window ends now. */
    async endDigestWindow(project: string) {
      await idle(sql`project_id = ${project}`);
      await db.run(sql`UPDATE alert_digest SET last_sent_at = ${LONG_AGO} WHERE project_id = ${project}`);
      await db.run(
        sql`UPDATE alert_outbox SET next_attempt_at = ${LONG_AGO} WHERE project_id = ${project} AND state = 'pending'`,
      );
    },
    /** The retry delay of the project's failed alerts has passed. */
    async retryNow(project: string) {
      await idle(sql`project_id = ${project}`);
      await db.run(
        sql`UPDATE alert_outbox SET next_attempt_at = ${LONG_AGO} WHERE project_id = ${project} AND state = 'pending'`,
      );
    },
    async backdateStatus(bugId: number, hours: number) {
      const at = new Date(Date.now() - hours * 3_600_000).toISOString();
      await db.run(sql`UPDATE bugs SET status_changed_at = ${at} WHERE id = ${bugId}`);
    },
    async outbox(project: string) {
      return db.all<{
        id: number;
        bug_id: number;
        kind: string;
        state: string;
        attempts: number;
        last_error: string | null;
        note: string | null;
      }>(
        sql`SELECT id, bug_id, kind, state, attempts, last_error, note FROM alert_outbox WHERE project_id = ${project} ORDER BY id`,
      );
    },
    /** Waits until no alert of the project is being sent or due (deferred flushes have finished). */
    async settled(project: string) {
      await waitFor(async () => {
        const [row] = await db.all<{ n: number }>(
          sql`SELECT count(*) AS n FROM alert_outbox WHERE project_id = ${project}
              AND (state = 'sending' OR (state = 'pending' AND next_attempt_at <= ${new Date().toISOString()}))`,
        );
        return row!.n === 0;
      });
    },
  };
}

export async function sweep(lc: LogCenterHandle) {
  const res = await lc.api('/api/v1/admin/sweep', { method: 'POST' });
  if (res.status !== 200) throw new Error(`sweep answered ${res.status}`);
  return res.json();
}

export async function setStatus(lc: LogCenterHandle, id: number, status: string, note?: string) {
  const res = await lc.api(`/api/v1/bugs/${id}/status`, {
    method: 'PUT',
    body: JSON.stringify({ status, note }),
  });
  if (res.status !== 200)
    throw new Error(`status change to ${status} answered ${res.status}: ${await res.text()}`);
}

export async function setAlertSettings(lc: LogCenterHandle, project: string, alertSettings: unknown) {
  const res = await lc.api(`/api/v1/projects/${project}`, {
    method: 'PUT',
    body: JSON.stringify({ alert_settings: alertSettings }),
  });
  if (res.status !== 200) throw new Error(`project update answered ${res.status}: ${await res.text()}`);
}
