/**
 * Alert policy: where a project's alerts go and which of them are worth sending. Pure
 * functions of the configuration, the project's settings and the bug; no database, no fetch.
 */
import type { AlertKind, AlertRow, AlertSettings, BugRow } from '../../../schema';
import type { Config } from '../../lib/config';
import { type FieldError, validationFailed } from '../../lib/errors';
import { PROBLEM_TEXT, targetProblem } from '../../lib/outbound';

export type AlertConfig = Pick<
  Config,
  'SLACK_WEBHOOK_URL' | 'ALERT_WEBHOOK_URL' | 'PUBLIC_URL' | 'ALERT_THROTTLE_MINUTES'
> &
  Partial<
    Pick<
      Config,
      | 'ALERT_ALLOW_PRIVATE_TARGETS'
      | 'SMTP_URL'
      | 'ALERT_EMAIL_FROM'
      | 'ALERT_EMAIL_TO'
      | 'DINGTALK_WEBHOOK_URL'
      | 'DINGTALK_SECRET'
      | 'WECOM_WEBHOOK_URL'
    >
  >;

/** Where each configured target sends. */
export interface Targets {
  slack?: string;
  webhook?: string;
  /** The recipients; the relay and the sender are the server's (SMTP_URL, ALERT_EMAIL_FROM). */
  email?: string[];
  /** The robot's URL and the secret that signs it, when the robot has one. */
  dingtalk?: { url: string; secret: string | null };
  wecom?: string;
}

/** Email is for the moments a person acts on: a fix to review, a fix merged, a fix that failed. */
export const EMAIL_KINDS: ReadonlySet<AlertKind> = new Set(['pr_opened', 'merged', 'failed']);

type EventSwitch = keyof NonNullable<AlertSettings['events']>;

/**
 * New bugs, regressions and failures alert unless a project switches them off; PR-opened is
 * opt-in per project. docs/alert-webhook.md lists every event.
 */
export const DEFAULT_EVENTS: Record<EventSwitch, boolean> = {
  new_bug: true,
  regression: true,
  failed: true,
  pr_opened: false,
  merged: false,
};

/**
 * Which project switch governs each kind. "Still occurring" is news about occurrences, like
 * a new bug; reminders are governed by REVIEW_REMINDER_HOURS (0 turns them off).
 */
const SWITCH_OF: Record<AlertKind, EventSwitch | null> = {
  new_bug: 'new_bug',
  regression: 'regression',
  failed: 'failed',
  pr_opened: 'pr_opened',
  merged: 'merged',
  reminder: null,
  recurring: 'new_bug',
};

/**
 * Occurrence alerts share a bug's throttle window; every other kind is a change of state
 * (regression, FAILED, PR opened, a review waiting) and goes out at once, even a minute
 * after the bug's last alert (docs/lifecycle-and-alerts.md).
 */
const OCCURRENCE_KINDS: ReadonlySet<AlertKind> = new Set(['new_bug', 'recurring']);
export const isOccurrence = (kind: AlertKind) => OCCURRENCE_KINDS.has(kind);

/** Bugs still worth a "still occurring" alert: nobody has shipped a fix for them yet. */
export const RECURRING_STATUSES = ['NEW', 'FIXING', 'FAILED'] as const;

/** Statuses in which a queued lifecycle alert is still true; otherwise it is stale news. */
const STILL_TRUE: Partial<Record<AlertKind, readonly string[]>> = {
  failed: ['FAILED'],
  pr_opened: ['PENDING_REVIEW'],
  // Deployed by the time the alert goes out: the merge still happened.
  merged: ['MERGED', 'DEPLOYED'],
  reminder: ['PENDING_REVIEW'],
  recurring: RECURRING_STATUSES,
};

/** When several alerts of one bug go out together, the message leads with the most telling. */
const PRIORITY: readonly AlertKind[] = [
  'regression',
  'failed',
  'merged',
  'pr_opened',
  'new_bug',
  'reminder',
  'recurring',
];

export const LEVEL_RANK: Record<string, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3, CRITICAL: 4 };

/** Alert targets, and links in a message, are plain http(s) URLs only. */
export const isHttpUrl = (url: string | null | undefined): url is string =>
  Boolean(url && /^https?:\/\/\S+$/i.test(url));

/**
 * A project's own URLs win; an absent or empty one falls back to the server-wide variable
 * (the dashboard sends null for a cleared field, which must not silence the project).
 */
export function alertTargets(config: AlertConfig, settings: AlertSettings | null | undefined): Targets {
  const pick = (own: string | null | undefined, fallback: string | undefined) => {
    const url = own?.trim() || fallback;
    return isHttpUrl(url) ? url : undefined;
  };
  const targets: Targets = {};
  const slack = pick(settings?.slack_webhook_url, config.SLACK_WEBHOOK_URL);
  const webhook = pick(settings?.alert_webhook_url, config.ALERT_WEBHOOK_URL);
  const wecom = pick(settings?.wecom_webhook_url, config.WECOM_WEBHOOK_URL);
  const ownDingtalk = settings?.dingtalk_webhook_url?.trim();
  const dingtalk = pick(ownDingtalk, config.DINGTALK_WEBHOOK_URL);
  if (slack) targets.slack = slack;
  if (webhook) targets.webhook = webhook;
  if (dingtalk) {
    // The server's secret belongs to the server's robot: a project's own robot signs with its own.
    const secret = settings?.dingtalk_secret?.trim() || (ownDingtalk ? null : config.DINGTALK_SECRET) || null;
    targets.dingtalk = { url: dingtalk, secret };
  }
  if (wecom) targets.wecom = wecom;
  const own = (settings?.email_recipients ?? []).map((a) => a.trim()).filter(Boolean);
  const recipients = own.length ? own : (config.ALERT_EMAIL_TO ?? []);
  if (config.SMTP_URL && config.ALERT_EMAIL_FROM && recipients.length) targets.email = recipients;
  return targets;
}

/** The targets that carry alerts of this kind: email only the ones a person acts on. */
export function targetsFor(kind: AlertKind | 'digest', targets: Targets): Targets {
  if (!targets.email || (kind !== 'digest' && EMAIL_KINDS.has(kind))) return targets;
  const { email: _, ...rest } = targets;
  return rest;
}

/**
 * Refuses a project's alert targets that point at this machine, the private network or a
 * metadata service, unless ALERT_ALLOW_PRIVATE_TARGETS is set. The scheme is the schema's
 * to check; this is the half that depends on the configuration.
 */
export function checkAlertSettings(config: AlertConfig, settings: AlertSettings | null | undefined): void {
  const problems: FieldError[] = [];
  for (const field of [
    'slack_webhook_url',
    'alert_webhook_url',
    'dingtalk_webhook_url',
    'wecom_webhook_url',
  ] as const) {
    const url = settings?.[field]?.trim();
    const problem = url && targetProblem(url, config.ALERT_ALLOW_PRIVATE_TARGETS);
    if (problem) problems.push({ path: `alert_settings.${field}`, message: PROBLEM_TEXT[problem] });
  }
  if (problems.length) throw validationFailed(problems);
}

export const hasAlertTarget = (config: AlertConfig, settings: AlertSettings | null | undefined) =>
  Object.keys(alertTargets(config, settings)).length > 0;

const eventEnabled = (kind: AlertKind, settings: AlertSettings | null | undefined) => {
  const name = SWITCH_OF[kind];
  return name === null || (settings?.events?.[name] ?? DEFAULT_EVENTS[name]);
};

const levelAllowed = (level: string, settings: AlertSettings | null | undefined) =>
  !settings?.min_level || (LEVEL_RANK[level] ?? LEVEL_RANK.ERROR!) >= LEVEL_RANK[settings.min_level]!;

/** The reason a fresh alert of this kind will not be sent, or null. */
export function suppressionReason(
  kind: AlertKind,
  bug: BugRow | undefined,
  settings: AlertSettings | null | undefined,
  config: AlertConfig,
): string | null {
  if (!bug) return 'bug no longer exists';
  if (bug.status === 'IGNORED') return 'bug is IGNORED';
  const stillTrue = STILL_TRUE[kind];
  if (stillTrue && !stillTrue.includes(bug.status)) return `stale: bug is ${bug.status} now`;
  if (!eventEnabled(kind, settings)) return `${kind} alerts are off for this project`;
  if (!levelAllowed(bug.level, settings))
    return `level ${bug.level} is below the project minimum ${settings?.min_level}`;
  const targets = alertTargets(config, settings);
  if (!Object.keys(targets).length) return 'no alert target configured';
  if (!Object.keys(targetsFor(kind, targets)).length)
    return `no alert target takes ${kind} (email carries only pr_opened, merged and failed)`;
  return null;
}

export const byPriority = (a: AlertRow, b: AlertRow) =>
  PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind) || a.id - b.id;
