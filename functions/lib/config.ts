import { z } from 'zod';
import { PROBLEM_TEXT, smtpTargetProblem, targetProblem } from './outbound';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const intWithDefault = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({ code: 'custom', message: 'must be a non-negative integer' });
        return z.NEVER;
      }
      return n;
    });

const flag = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const text = v?.trim().toLowerCase() ?? '';
    if (text === '' || text === 'false' || text === '0') return false;
    if (text === 'true' || text === '1') return true;
    ctx.addIssue({ code: 'custom', message: 'must be true or false' });
    return z.NEVER;
  });

/** An address as a mailbox holds it: no display name, no spaces, one @. */
export const isEmailAddress = (text: string) => text.length <= 254 && z.email().safeParse(text).success;

/** `smtp://user:pass@host:port` or `smtps://…`: the host and credentials only, nothing to follow. */
const smtpUrl = optionalString.superRefine((v, ctx) => {
  if (v === undefined) return;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an smtp:// or smtps:// URL' });
    return;
  }
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || !url.hostname)
    ctx.addIssue({ code: 'custom', message: 'must be an smtp:// or smtps:// URL with a host' });
  else if ((url.pathname && url.pathname !== '/') || url.search || url.hash)
    ctx.addIssue({ code: 'custom', message: 'takes no path or query: smtp(s)://user:password@host:port' });
});

/** `Log Center <alerts@example.com>` or a bare address. */
const emailFrom = optionalString.superRefine((v, ctx) => {
  if (v === undefined) return;
  const address = v.match(/<([^<>]*)>\s*$/)?.[1] ?? v;
  if (!isEmailAddress(address.trim()) || /[\r\n]/.test(v))
    ctx.addIssue({ code: 'custom', message: 'must be an email address, optionally as "Name <address>"' });
});

/** A comma-separated list of addresses. */
const emailList = optionalString.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const list = v
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const bad = list.find((a) => !isEmailAddress(a));
  if (bad !== undefined || list.length > 50) {
    ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of up to 50 email addresses' });
    return z.NEVER;
  }
  return list.length ? list : undefined;
});

export const configSchema = z.object({
  LOG_CENTER_API_TOKEN: optionalString,
  GITEA_WEBHOOK_SECRET: optionalString,
  DEPLOY_WEBHOOK_SECRET: optionalString,
  SLACK_WEBHOOK_URL: optionalString,
  ALERT_WEBHOOK_URL: optionalString,
  /** Email alerts (Node server only): the SMTP relay, the sender and the default recipients. */
  SMTP_URL: smtpUrl,
  ALERT_EMAIL_FROM: emailFrom,
  ALERT_EMAIL_TO: emailList,
  /** A DingTalk group robot; the secret signs each call when the robot has 加签 on. */
  DINGTALK_WEBHOOK_URL: optionalString,
  DINGTALK_SECRET: optionalString,
  /** A WeCom (企业微信) group robot. */
  WECOM_WEBHOOK_URL: optionalString,
  /** Lets alert targets point at loopback, private and link-local hosts (an on-premises Slack proxy). */
  ALERT_ALLOW_PRIVATE_TARGETS: flag,
  PUBLIC_URL: optionalString,
  CORS_ORIGINS: optionalString,
  RETENTION_DAYS: intWithDefault(30),
  ALERT_THROTTLE_MINUTES: intWithDefault(60),
  REVIEW_REMINDER_HOURS: intWithDefault(24),
  /** Default per-project ingestion rate; 0 disables the limit. */
  RATE_LIMIT_PER_MINUTE: intWithDefault(6000),
  DEFAULT_LEASE_SECONDS: intWithDefault(1800),
  /** Projects that reports may create on their own (docs/api.md, limits); PUT creates past it neither. */
  MAX_PROJECTS: intWithDefault(1000),
  /** Gitea's base URL and a token of the user Log Center reviews and merges as (review cockpit). */
  GITEA_URL: optionalString.refine(
    (v) => v === undefined || /^https?:\/\/[^/]/i.test(v),
    'must be an http or https URL',
  ),
  GITEA_TOKEN: optionalString,
  /** How long one Gitea API call may take before the action fails. */
  GITEA_TIMEOUT_SECONDS: intWithDefault(15),
});

export type Config = z.infer<typeof configSchema>;

export function parseConfig(env: Record<string, unknown>): Config {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    raw[key] = typeof value === 'string' ? value : undefined;
  }
  const parsed = configSchema
    .refine((c) => !c.SMTP_URL || c.ALERT_EMAIL_FROM, {
      path: ['ALERT_EMAIL_FROM'],
      message: 'is required when SMTP_URL is set',
    })
    .safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** The server-wide alert target variables, checked at start-up like a project's own targets. */
export const SERVER_ALERT_TARGETS = [
  'SLACK_WEBHOOK_URL',
  'ALERT_WEBHOOK_URL',
  'DINGTALK_WEBHOOK_URL',
  'WECOM_WEBHOOK_URL',
  'SMTP_URL',
] as const;

/**
 * What is wrong with the server-wide alert targets as written: one sentence per variable,
 * naming it. The Node server refuses to start on any; the Worker logs them and drops the
 * target. The DNS check happens again at send time.
 */
export function alertTargetConfigProblems(
  config: Config,
): { variable: (typeof SERVER_ALERT_TARGETS)[number]; message: string }[] {
  const problems: { variable: (typeof SERVER_ALERT_TARGETS)[number]; message: string }[] = [];
  for (const variable of SERVER_ALERT_TARGETS) {
    const url = config[variable];
    const problem =
      url &&
      (variable === 'SMTP_URL'
        ? smtpTargetProblem(url, config.ALERT_ALLOW_PRIVATE_TARGETS)
        : targetProblem(url, config.ALERT_ALLOW_PRIVATE_TARGETS));
    if (!problem) continue;
    problems.push({
      variable,
      message:
        problem === 'private'
          ? `${variable} ${PROBLEM_TEXT.private}; set ALERT_ALLOW_PRIVATE_TARGETS=true if that is intended (an on-premises proxy)`
          : `${variable} ${PROBLEM_TEXT[problem]}`,
    });
  }
  return problems;
}
