/**
 * The alert outbox's delivery state machine. Rows are written in the same batch as the change
 * that causes them; a flush claims the due ones, applies the policy, the per-bug throttle and
 * the per-project new-bug digest window, renders each message once, posts it, and settles
 * every row it claimed: sent, held, suppressed, retrying with backoff, or dead.
 */
import { and, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import {
  type AlertKind,
  type AlertPayload,
  type AlertRow,
  type AlertTarget,
  type AlertThrottleRow,
  alertDigest,
  alertOutbox,
  alertThrottle,
  type BugRow,
  bugs,
  type ProjectRow,
  projects,
  statusHistory,
} from '../../../schema';
import { batch, type Db } from '../../lib/db';
import { mailer as installedMailer, type Mailer, NO_MAILER } from '../../lib/mail';
import { checkHostAtSend, checkTargetAtSend, type HostResolver } from '../../lib/outbound';
import { yieldToEventLoop } from '../../lib/time';
import {
  type AlertConfig,
  alertTargets,
  byPriority,
  isOccurrence,
  suppressionReason,
  type Targets,
  targetsFor,
} from './policy';
import { dingtalkDigest, dingtalkMessage, signDingtalkUrl } from './render/dingtalk';
import { type EmailBody, emailMessage } from './render/email';
import { slackDigest, slackMessage } from './render/slack';
import type { AlertView } from './render/text';
import { webhookDigest, webhookMessage } from './render/webhook';
import { wecomDigest, wecomMessage } from './render/wecom';

export interface FlushOptions {
  now?: Date;
  /** Stands in for the global fetch (tests, instrumentation). */
  fetch?: typeof fetch;
  /** Per POST; a receiver that hangs costs this much of a background task, never a request. */
  timeoutMs?: number;
  /** Stands in for the DNS resolver the Node server installs (tests). */
  resolve?: HostResolver | null;
  /** Stands in for the installed email sender (tests); null: no sender, as on the Worker. */
  mailer?: Mailer | null;
  log?: (line: Record<string, unknown>) => void;
}

export interface FlushResult {
  /** Messages that reached every target (a digest counts once). */
  sent: number;
  /** Rows waiting out a throttle or digest window. */
  held: number;
  retrying: number;
  dead: number;
  /** Rows switched off, stale, or carried by another message. */
  suppressed: number;
}

/** After this many failed attempts a row is `dead`; with the backoff below that is about 3 hours. */
export const ALERT_MAX_ATTEMPTS = 10;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 60 * 60_000;
/** Long enough for one flush to post everything it claimed; a crashed flush's rows come back after it. */
const CLAIM_LEASE_MS = 2 * 60_000;
export const DIGEST_WINDOW_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 5_000;
/** D1 binds at most 100 parameters a statement; the id lists below stay well under. */
const CLAIM_LIMIT = 50;
const MAX_PASSES = 10;

export const retryDelayMs = (attempts: number) =>
  Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));

/**
 * `error` is what a caller may see and what the outbox keeps: a status or a generic phrase,
 * never the receiver's answer or the network error (which would tell a token holder what
 * listens where). `detail` is for the server log.
 */
export type PostResult = { ok: true } | { ok: false; error: string; detail: string; retryAfterMs?: number };

export const DELIVERY_FAILED = 'delivery failed';
export const TARGET_REFUSED = 'target refused: private address';

function describeError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

export interface PostOptions {
  fetch: typeof fetch;
  /**
   * A DingTalk or WeCom robot: it answers HTTP 200 with `{ errcode, errmsg }` even when it
   * refuses the message (a wrong signature, too many messages), so the answer is read.
   */
  robot?: boolean;
  timeoutMs: number;
  /** ALERT_ALLOW_PRIVATE_TARGETS: skip the private-address checks. */
  allowPrivate?: boolean;
  /** Resolves the target's name so its addresses can be checked; default: the installed one (Node). */
  resolve?: HostResolver | null;
}

export async function post(url: string, body: unknown, options: PostOptions): Promise<PostResult> {
  try {
    const checked = await checkTargetAtSend(url, options);
    if (!checked.ok)
      return {
        ok: false,
        error: checked.problem === 'private' ? TARGET_REFUSED : DELIVERY_FAILED,
        detail: checked.detail,
      };
    const res = await options.fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'log-center-alerts' },
      body: JSON.stringify(body),
      // A redirect could lead anywhere, the private network included: it counts as a failure.
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (res.ok && options.robot) return robotAnswer(await readSmall(res));
    // The answer is never read: nothing of it is shown or kept, and a receiver that streams
    // forever must not hold the flush until the timeout.
    await res.body?.cancel().catch(() => {});
    if (res.ok) return { ok: true };
    if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
      const status = res.status || 'redirect';
      return { ok: false, error: `HTTP ${status} (redirects are not followed)`, detail: `HTTP ${status}` };
    }
    const retryAfter = Number(res.headers.get('Retry-After'));
    return {
      ok: false,
      error: `HTTP ${res.status}`,
      detail: `HTTP ${res.status}`,
      ...(retryAfter > 0 && { retryAfterMs: retryAfter * 1000 }),
    };
  } catch (error) {
    return { ok: false, error: DELIVERY_FAILED, detail: describeError(error) };
  }
}

/** The first bytes of an answer; the rest is dropped, so a receiver cannot make us buffer it. */
async function readSmall(res: Response, max = 16_384): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= max) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(bytes.subarray(0, Math.min(size, max)));
}

/** A robot's `{ errcode, errmsg }`: 0 is success; the code (a number) may be shown, the text is logged only. */
function robotAnswer(text: string): PostResult {
  let answer: { errcode?: unknown; errmsg?: unknown } | null = null;
  try {
    answer = JSON.parse(text);
  } catch {
    // Not JSON: reported below.
  }
  const code = answer?.errcode;
  if (code === 0) return { ok: true };
  if (typeof code !== 'number' || !Number.isInteger(code))
    return { ok: false, error: 'unexpected answer', detail: 'the robot did not answer { errcode }' };
  return {
    ok: false,
    error: `errcode ${code}`,
    detail: `errcode ${code}: ${String(answer?.errmsg ?? '').slice(0, 200)}`,
  };
}

/** Delivery to one target: posted, failed, or skipped on purpose (no email sender on this runtime). */
export type SendResult = PostResult | { ok: 'skipped'; reason: string };

export interface SendOptions extends PostOptions {
  config: AlertConfig;
  mailer?: Mailer | null;
  /** The clock DingTalk signatures are made with. */
  now?: () => number;
}

/** SMTP answers carry a reply code (550 mailbox unavailable, 535 authentication failed). */
function smtpError(error: unknown): string {
  const code = (error as { responseCode?: unknown })?.responseCode;
  return typeof code === 'number' ? `SMTP ${code}` : DELIVERY_FAILED;
}

/**
 * Sends a rendered body to one target. Every target passes the outbound guard: the robots'
 * URLs like any webhook, and for email the SMTP relay's host, whose checked address is the one
 * dialled. The robots' answers are read (`robot`); a DingTalk robot with a secret gets a URL
 * signed now.
 */
export async function sendTo(
  target: AlertTarget,
  targets: Targets,
  body: Record<string, unknown>,
  options: SendOptions,
): Promise<SendResult> {
  switch (target) {
    case 'slack':
    case 'webhook':
      return post(targets[target]!, body, options);
    case 'wecom':
      return post(targets.wecom!, body, { ...options, robot: true });
    case 'dingtalk': {
      const { url, secret } = targets.dingtalk!;
      const signed = secret ? await signDingtalkUrl(url, secret, (options.now ?? Date.now)()) : url;
      return post(signed, body, { ...options, robot: true });
    }
    case 'email':
      return sendEmail(targets.email!, body as EmailBody, options);
  }
}

async function sendEmail(to: string[], body: EmailBody, options: SendOptions): Promise<SendResult> {
  const send = options.mailer === undefined ? installedMailer() : options.mailer;
  if (!send) return { ok: 'skipped', reason: NO_MAILER };
  const { SMTP_URL: url, ALERT_EMAIL_FROM: from } = options.config;
  if (!url || !from) return { ok: 'skipped', reason: 'SMTP_URL or ALERT_EMAIL_FROM is not set' };
  try {
    const checked = await checkHostAtSend(new URL(url).hostname, options);
    if (!checked.ok)
      return {
        ok: false,
        error: checked.problem === 'private' ? TARGET_REFUSED : DELIVERY_FAILED,
        detail: `SMTP relay: ${checked.detail}`,
      };
    await send(
      { url, ...(checked.addresses[0] !== undefined && { connectTo: checked.addresses[0] }) },
      { from, to, subject: body.subject, text: body.text, html: body.html },
      { timeoutMs: options.timeoutMs },
    );
    return { ok: true };
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    return {
      ok: false,
      error: smtpError(error),
      detail: `${typeof code === 'string' ? `${code}: ` : ''}${describeError(error)}`,
    };
  }
}

interface Message {
  lead: AlertRow;
  /** Other rows this message carries; they end `suppressed`, noted as merged into the lead. */
  merged: AlertRow[];
  payload: AlertPayload;
  /** How many bugs the message covers: more than one for a digest. */
  size: number;
}

interface Context {
  bugs: Map<number, BugRow>;
  projects: Map<string, ProjectRow>;
  throttles: Map<number, AlertThrottleRow>;
  digests: Map<string, { lastSentAt: string; alertId: number }>;
}

/** What one pass of a flush works with. */
interface Run {
  db: Db;
  config: AlertConfig;
  now: Date;
  ctx: Context;
  settle: Settlement;
}

async function loadContext(db: Db, rows: AlertRow[]): Promise<Context> {
  const bugIds = [...new Set(rows.map((r) => r.bugId))];
  const projectIds = [...new Set(rows.map((r) => r.projectId))];
  const [bugRows, projectRows, throttleRows, digestRows] = await Promise.all([
    db.select().from(bugs).where(inArray(bugs.id, bugIds)),
    db.select().from(projects).where(inArray(projects.id, projectIds)),
    db.select().from(alertThrottle).where(inArray(alertThrottle.bugId, bugIds)),
    db.select().from(alertDigest).where(inArray(alertDigest.projectId, projectIds)),
  ]);
  return {
    bugs: new Map(bugRows.map((b) => [b.id, b])),
    projects: new Map(projectRows.map((p) => [p.id, p])),
    throttles: new Map(throttleRows.map((t) => [t.bugId, t])),
    digests: new Map(digestRows.map((d) => [d.projectId, d])),
  };
}

const targetsOf = (run: Run, projectId: string) =>
  alertTargets(run.config, run.ctx.projects.get(projectId)?.alertSettings);

/** SQLite answers BUSY while another connection (another process, the ingest writer) writes. */
function isBusy(error: unknown): boolean {
  let current = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (/SQLITE_BUSY|database is locked/.test(`${code} ${message}`)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Runs a write, waiting out a busy database with short async pauses. Giving up on the
 * settlement after a send would mean posting the message again once the claim lapses,
 * so that one gets more patience.
 */
async function whenFree<T>(write: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isBusy(error) || attempt >= attempts) throw error;
      await new Promise((resume) => setTimeout(resume, Math.min(1_000, 20 * 2 ** attempt)));
    }
  }
}

/** Takes due rows with one UPDATE, so two flushes running at once never get the same row. */
async function claimDue(db: Db, now: Date, token: string): Promise<AlertRow[]> {
  const at = now.toISOString();
  // A row still `sending` after its lease belongs to a flush that died; it is due again.
  const due = and(inArray(alertOutbox.state, ['pending', 'sending']), lte(alertOutbox.nextAttemptAt, at));
  // Most flushes find nothing due: a read answers that without taking the write lock the
  // ingest path needs.
  const [any] = await db.select({ id: alertOutbox.id }).from(alertOutbox).where(due).limit(1);
  if (!any) return [];
  const rows = await db
    .update(alertOutbox)
    .set({
      state: 'sending',
      claimToken: token,
      nextAttemptAt: new Date(now.getTime() + CLAIM_LEASE_MS).toISOString(),
    })
    .where(
      and(
        due,
        inArray(
          alertOutbox.id,
          db
            .select({ id: alertOutbox.id })
            .from(alertOutbox)
            .where(due)
            .orderBy(alertOutbox.id)
            .limit(CLAIM_LIMIT),
        ),
      ),
    )
    .returning();
  return rows.sort((a, b) => a.id - b.id);
}

/** The statements that settle claimed rows; each checks the claim so a lapsed flush writes nothing. */
class Settlement {
  readonly items: BatchItem<'sqlite'>[] = [];
  readonly result: FlushResult = { sent: 0, held: 0, retrying: 0, dead: 0, suppressed: 0 };

  constructor(
    private readonly db: Db,
    private readonly token: string,
  ) {}

  private update(ids: number[], set: Partial<typeof alertOutbox.$inferInsert>) {
    if (!ids.length) return;
    this.items.push(
      this.db
        .update(alertOutbox)
        .set({ ...set, claimToken: null })
        .where(and(inArray(alertOutbox.id, ids), eq(alertOutbox.claimToken, this.token))),
    );
  }

  suppress(rows: AlertRow[], note: string) {
    this.result.suppressed += rows.length;
    this.update(
      rows.map((r) => r.id),
      { state: 'suppressed', note },
    );
  }

  hold(rows: AlertRow[], until: number, note: string) {
    this.result.held += rows.length;
    this.update(
      rows.map((r) => r.id),
      { state: 'pending', nextAttemptAt: new Date(until).toISOString(), note },
    );
  }

  settle(
    row: AlertRow,
    outcome: 'sent' | 'retrying' | 'dead' | 'suppressed',
    set: Partial<typeof alertOutbox.$inferInsert>,
  ) {
    this.result[outcome] += 1;
    this.update([row.id], { ...set, state: outcome === 'retrying' ? 'pending' : outcome });
  }
}

/** The reason a fresh row will not be sent, or null. */

/**
 * Drops what should not be sent and applies the per-bug throttle: inside the window of a
 * bug's last alert its occurrence rows wait for the window to end, then go out as one
 * message that counts what happened meanwhile. A change of state is never held: it goes out
 * at once and carries the occurrence rows waiting with it. Answers each sendable bug's rows,
 * most telling first.
 */
function applyThrottle(run: Run, fresh: AlertRow[]): AlertRow[][] {
  const byBug = new Map<number, AlertRow[]>();
  for (const row of fresh) {
    const reason = suppressionReason(
      row.kind,
      run.ctx.bugs.get(row.bugId),
      run.ctx.projects.get(row.projectId)?.alertSettings,
      run.config,
    );
    if (reason) run.settle.suppress([row], reason);
    else byBug.set(row.bugId, [...(byBug.get(row.bugId) ?? []), row]);
  }
  const windowMs = run.config.ALERT_THROTTLE_MINUTES * 60_000;
  const open: AlertRow[][] = [];
  for (const [bugId, rows] of byBug) {
    rows.sort(byPriority);
    const previous = run.ctx.throttles.get(bugId);
    const ends = previous ? Date.parse(previous.lastAlertAt) + windowMs : 0;
    // A row that already holds the window is one whose flush died mid-send: it goes on.
    const holdsWindow = rows.some((r) => r.id === previous?.alertId);
    if (
      windowMs > 0 &&
      ends > run.now.getTime() &&
      !holdsWindow &&
      !rows.some((r) => !isOccurrence(r.kind))
    ) {
      run.settle.hold(rows, ends, 'throttled: one alert per bug per window');
    } else {
      open.push(rows);
    }
  }
  return open;
}

/**
 * Takes the windows the messages need before anything is sent: each project's new-bug
 * window (one new-bug message a minute; what arrives meanwhile waits and goes out as one
 * digest) and each bug's throttle window. The upserts only succeed when the window is
 * free, so of two flushes racing for the same bug or project exactly one goes ahead.
 * Answers the drafts: each a list of bugs' rows, more than one bug for a digest.
 */
async function takeWindows(run: Run, open: AlertRow[][]): Promise<AlertRow[][][]> {
  const { db, ctx, now, settle } = run;
  const at = now.toISOString();
  const drafts: AlertRow[][][] = open.filter((rows) => rows[0]!.kind !== 'new_bug').map((rows) => [rows]);

  const newByProject = new Map<string, AlertRow[][]>();
  for (const rows of open.filter((r) => r[0]!.kind === 'new_bug')) {
    newByProject.set(rows[0]!.projectId, [...(newByProject.get(rows[0]!.projectId) ?? []), rows]);
  }
  const digestStart = new Date(now.getTime() - DIGEST_WINDOW_MS).toISOString();
  const wanted: AlertRow[][][] = [];
  for (const [projectId, groups] of newByProject) {
    const last = ctx.digests.get(projectId);
    const holdsWindow = groups.some((rows) => rows.some((r) => r.id === last?.alertId));
    if (last && !holdsWindow && last.lastSentAt > digestStart) {
      settle.hold(
        groups.flat(),
        Date.parse(last.lastSentAt) + DIGEST_WINDOW_MS,
        'waiting for the new-bug digest',
      );
    } else {
      wanted.push(groups);
    }
  }
  const projectWindows = await whenFree(() =>
    batch(
      db,
      wanted.map((groups) => {
        const lead = groups[0]![0]!;
        return db
          .insert(alertDigest)
          .values({ projectId: lead.projectId, lastSentAt: at, alertId: lead.id })
          .onConflictDoUpdate({
            target: alertDigest.projectId,
            set: { lastSentAt: at, alertId: lead.id },
            setWhere: sql`${alertDigest.lastSentAt} <= ${digestStart} OR ${alertDigest.alertId} = ${lead.id}`,
          })
          .returning({ projectId: alertDigest.projectId });
      }),
    ),
  );
  wanted.forEach((groups, i) => {
    // Lost to a concurrent flush that just sent this project's new-bug message.
    if ((projectWindows[i] as unknown[]).length) drafts.push(groups);
    else settle.hold(groups.flat(), now.getTime() + DIGEST_WINDOW_MS, 'waiting for the new-bug digest');
  });

  const windowMs = run.config.ALERT_THROTTLE_MINUTES * 60_000;
  const windowStart = new Date(now.getTime() - windowMs).toISOString();
  const takes = drafts.flat().filter((rows) => ctx.throttles.get(rows[0]!.bugId)?.alertId !== rows[0]!.id);
  // A change of state takes the window whether or not it is free (it restarts it, so the
  // occurrences it reports are not reported again at once); occurrence alerts only take a
  // free one, so of two flushes racing for the same bug exactly one goes ahead.
  const urgent = (rows: AlertRow[]) => rows.some((r) => !isOccurrence(r.kind));
  const bugWindows = await whenFree(() =>
    batch(
      db,
      takes.map((rows) => {
        const lead = rows[0]!;
        const occurrences = ctx.bugs.get(lead.bugId)!.occurrenceCount;
        const recurring = lead.kind === 'recurring';
        return db
          .insert(alertThrottle)
          .values({
            bugId: lead.bugId,
            lastAlertAt: at,
            occurrencesAtAlert: occurrences,
            alertId: lead.id,
            recurringStreak: recurring ? 1 : 0,
          })
          .onConflictDoUpdate({
            target: alertThrottle.bugId,
            set: {
              lastAlertAt: at,
              occurrencesAtAlert: occurrences,
              alertId: lead.id,
              recurringStreak: recurring ? sql`${alertThrottle.recurringStreak} + 1` : 0,
            },
            ...(windowMs > 0 && !urgent(rows) && { setWhere: lte(alertThrottle.lastAlertAt, windowStart) }),
          })
          .returning({ bugId: alertThrottle.bugId });
      }),
    ),
  );
  const lost = new Set(takes.filter((_, i) => !(bugWindows[i] as unknown[]).length));
  for (const rows of lost)
    settle.hold(rows, now.getTime() + windowMs, 'throttled: one alert per bug per window');
  return drafts.map((groups) => groups.filter((rows) => !lost.has(rows))).filter((groups) => groups.length);
}

/** The note of the latest change to FAILED per bug: the agent's reason, or the lease count. */
async function failureNotes(db: Db, bugIds: number[]): Promise<Map<number, string>> {
  if (!bugIds.length) return new Map();
  const rows = await db
    .select({ bugId: statusHistory.bugId, note: statusHistory.note })
    .from(statusHistory)
    .where(and(inArray(statusHistory.bugId, bugIds), eq(statusHistory.toStatus, 'FAILED')))
    .orderBy(desc(statusHistory.id));
  const notes = new Map<number, string>();
  for (const row of rows) if (row.note && !notes.has(row.bugId)) notes.set(row.bugId, row.note);
  return notes;
}

/** Renders each draft once; the payload is stored with the row, so retries repeat it exactly. */
async function render(run: Run, drafts: AlertRow[][][]): Promise<Message[]> {
  const { ctx, config } = run;
  const leads = drafts.flat().map((rows) => rows[0]!);
  const notes = await failureNotes(
    run.db,
    leads.filter((r) => r.kind === 'failed').map((r) => r.bugId),
  );
  return drafts.map((groups) => {
    const lead = groups[0]![0]!;
    const targets = targetsOf(run, lead.projectId);
    const project = { id: lead.projectId, name: ctx.projects.get(lead.projectId)?.name ?? lead.projectId };
    const merged = groups.flat().filter((r) => r !== lead);
    if (groups.length > 1) {
      const bugRows = groups.map((rows) => ctx.bugs.get(rows[0]!.bugId)!);
      const to = targetsFor('digest', targets);
      const payload: AlertPayload = {
        ...(to.slack && { slack: slackDigest(project, bugRows, config) }),
        ...(to.webhook && { webhook: webhookDigest(project, bugRows, config) }),
        ...(to.dingtalk && { dingtalk: dingtalkDigest(project, bugRows, config) }),
        ...(to.wecom && { wecom: wecomDigest(project, bugRows, config) }),
      };
      return { lead, merged, payload, size: groups.length };
    }
    const bug = ctx.bugs.get(lead.bugId)!;
    const previous = ctx.throttles.get(lead.bugId);
    const view: AlertView = {
      kind: lead.kind,
      kinds: [...new Set(groups[0]!.map((r) => r.kind))],
      bug,
      project,
      sinceLast:
        previous && previous.alertId !== lead.id
          ? Math.max(0, bug.occurrenceCount - previous.occurrencesAtAlert)
          : null,
      note: lead.kind === 'failed' ? (notes.get(bug.id) ?? null) : null,
      queuedAt: lead.createdAt,
    };
    const to = targetsFor(lead.kind, targets);
    const payload: AlertPayload = {
      ...(to.slack && { slack: slackMessage(view, config) }),
      ...(to.webhook && { webhook: webhookMessage(view, config) }),
      ...(to.email && { email: emailMessage(view, config) }),
      ...(to.dingtalk && { dingtalk: dingtalkMessage(view, config) }),
      ...(to.wecom && { wecom: wecomMessage(view, config) }),
    };
    return { lead, merged, payload, size: 1 };
  });
}

export const postOptionsOf = (config: AlertConfig, options: FlushOptions): SendOptions => ({
  config,
  fetch: options.fetch ?? fetch,
  timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  allowPrivate: config.ALERT_ALLOW_PRIVATE_TARGETS ?? false,
  ...(options.resolve !== undefined && { resolve: options.resolve }),
  ...(options.mailer !== undefined && { mailer: options.mailer }),
});

/** Posts a message to every target that has not taken it yet, then settles its rows. */
async function deliver(run: Run, message: Message, options: FlushOptions) {
  const { lead, merged, payload } = message;
  const { settle, now } = run;
  const log = options.log ?? logLine;
  const targets = targetsOf(run, lead.projectId);
  const delivered = new Set(lead.delivered ?? []);
  const due = (Object.keys(payload) as AlertTarget[]).filter((t) => !delivered.has(t) && targets[t]);
  if (!due.length && !delivered.size) {
    settle.suppress([lead, ...merged], 'no alert target configured');
    return;
  }
  if (merged.length) settle.suppress(merged, `merged into alert #${lead.id}`);

  const postOptions = postOptionsOf(run.config, options);
  const outcomes = await Promise.all(
    due.map(async (target) => ({
      target,
      outcome: await sendTo(target, targets, payload[target]!, postOptions),
    })),
  );
  const errors: string[] = [];
  const details: string[] = [];
  const skipped: string[] = [];
  let retryAfterMs = 0;
  for (const { target, outcome } of outcomes) {
    if (outcome.ok === 'skipped') skipped.push(`${target} skipped: ${outcome.reason}`);
    else if (outcome.ok) delivered.add(target);
    else {
      errors.push(`${target}: ${outcome.error}`);
      details.push(`${target}: ${outcome.detail}`);
      retryAfterMs = Math.max(retryAfterMs, outcome.retryAfterMs ?? 0);
    }
  }

  const attempts = lead.attempts + 1;
  const written = { attempts, payload, delivered: [...delivered] };
  const fields = {
    alert_id: lead.id,
    bug_id: lead.bugId,
    project_id: lead.projectId,
    kind: lead.kind,
    ...(message.size > 1 && { digest_of: message.size }),
  };
  const error = errors.join('; ');
  const detail = details.join('; ');
  const skipNote = skipped.length ? skipped.join('; ') : null;
  if (skipNote) log({ level: 'info', msg: 'alert target skipped', ...fields, reason: skipNote });
  if (!errors.length && !delivered.size) {
    settle.settle(lead, 'suppressed', { ...written, note: skipNote });
  } else if (!errors.length) {
    settle.settle(lead, 'sent', {
      ...written,
      sentAt: now.toISOString(),
      lastError: null,
      ...(skipNote && { note: skipNote }),
    });
    log({ level: 'info', msg: 'alert sent', ...fields, targets: [...delivered] });
  } else if (attempts >= ALERT_MAX_ATTEMPTS) {
    settle.settle(lead, 'dead', { ...written, lastError: error });
    log({ level: 'error', msg: 'alert dead', ...fields, attempts, error: detail });
  } else {
    const next = new Date(now.getTime() + Math.max(retryDelayMs(attempts), retryAfterMs)).toISOString();
    settle.settle(lead, 'retrying', { ...written, nextAttemptAt: next, lastError: error });
    log({
      level: 'warn',
      msg: 'alert delivery failed',
      ...fields,
      attempts,
      next_attempt_at: next,
      error: detail,
    });
  }
}

/**
 * Delivers due alerts: claims them, applies the project's switches, the per-bug throttle
 * and the new-bug digest, sends to every configured target (Slack, the generic webhook,
 * email, DingTalk, WeCom), and records the outcome
 * (sent, retry with backoff, or dead). A receiver never makes it throw; the database may.
 *
 * Without options, calls on one database handle coalesce: while a flush runs, every new
 * call shares the one run that follows it, which still sees everything queued by then.
 * A burst of new bugs thus costs two flushes, not one per report.
 */
export function flushAlerts(db: Db, config: AlertConfig, options: FlushOptions = {}): Promise<FlushResult> {
  if (Object.keys(options).length) return flushAll(db, config, options);
  let queue = queues.get(db);
  if (!queue) {
    queue = new FlushQueue();
    queues.set(db, queue);
  }
  return queue.run(() => flushAll(db, config, options));
}

const queues = new WeakMap<Db, FlushQueue>();

class FlushQueue {
  private running: Promise<void> | null = null;
  private next: Promise<FlushResult> | null = null;

  run(task: () => Promise<FlushResult>): Promise<FlushResult> {
    if (!this.running) return this.start(task);
    this.next ??= this.running.then(() => {
      this.next = null;
      return this.start(task);
    });
    return this.next;
  }

  private start(task: () => Promise<FlushResult>): Promise<FlushResult> {
    const result = task();
    const done = result.then(
      () => {},
      () => {},
    );
    this.running = done;
    void done.then(() => {
      if (this.running === done) this.running = null;
    });
    return result;
  }
}

async function flushAll(db: Db, config: AlertConfig, options: FlushOptions): Promise<FlushResult> {
  const total: FlushResult = { sent: 0, held: 0, retrying: 0, dead: 0, suppressed: 0 };
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    if (pass > 0) await yieldToEventLoop();
    const { result, claimed } = await flushOnce(db, config, options);
    for (const key of Object.keys(total) as (keyof FlushResult)[]) total[key] += result[key];
    if (claimed < CLAIM_LIMIT) break;
  }
  return total;
}

async function flushOnce(db: Db, config: AlertConfig, options: FlushOptions) {
  const now = options.now ?? new Date();
  const token = crypto.randomUUID();
  const claimed = await whenFree(() => claimDue(db, now, token));
  const settle = new Settlement(db, token);
  if (!claimed.length) return { result: settle.result, claimed: 0 };

  // Until something is sent, a failure gives the rows back at once rather than when the
  // claim lapses.
  const release = () =>
    whenFree(() =>
      db
        .update(alertOutbox)
        .set({ state: 'pending', claimToken: null, nextAttemptAt: now.toISOString() })
        .where(eq(alertOutbox.claimToken, token)),
    );
  let run: Run;
  const messages: Message[] = [];
  try {
    run = { db, config, now, ctx: await loadContext(db, claimed), settle };
    // A row with a payload was rendered before and failed somewhere: it already holds its
    // bug's window, so it goes out again as it was.
    for (const row of claimed.filter((r) => r.payload)) {
      messages.push({ lead: row, merged: [], payload: row.payload!, size: 1 });
    }
    const open = applyThrottle(
      run,
      claimed.filter((row) => !row.payload),
    );
    messages.push(...(await render(run, await takeWindows(run, open))));
  } catch (error) {
    await release();
    throw error;
  }
  await Promise.all(messages.map((message) => deliver(run, message, options)));
  await whenFree(() => batch(db, settle.items), 12);
  return { result: settle.result, claimed: claimed.length };
}

/**
 * The select list of an INSERT … SELECT into alert_outbox from `bugs`: drizzle names every
 * column of the table, so each one needs a value here. The one place that builds a fresh
 * row this way, for the sweep's producers and for status changes alike.
 */
export function outboxRowOf(kind: AlertKind, at: string) {
  return {
    id: sql<number>`NULL`.as('id'),
    bugId: bugs.id,
    projectId: bugs.projectId,
    kind: sql<AlertKind>`${kind}`.as('kind'),
    state: sql<string>`'pending'`.as('state'),
    attempts: sql<number>`0`.as('attempts'),
    nextAttemptAt: sql<string>`${at}`.as('next_attempt_at'),
    lastError: sql<string | null>`NULL`.as('last_error'),
    createdAt: sql<string>`${at}`.as('created_at'),
    sentAt: sql<string | null>`NULL`.as('sent_at'),
    claimToken: sql<string | null>`NULL`.as('claim_token'),
    payload: sql<null>`NULL`.as('payload'),
    delivered: sql<null>`NULL`.as('delivered'),
    note: sql<string | null>`NULL`.as('note'),
  };
}

export function logLine(line: Record<string, unknown>) {
  const text = JSON.stringify(line);
  if (line.level === 'error') console.error(text);
  else if (line.level === 'warn') console.warn(text);
  else console.log(text);
}
