import { z } from 'zod';
import { PROBLEM_TEXT, targetProblem } from './outbound';

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

export const configSchema = z.object({
  LOG_CENTER_API_TOKEN: optionalString,
  GITEA_WEBHOOK_SECRET: optionalString,
  DEPLOY_WEBHOOK_SECRET: optionalString,
  SLACK_WEBHOOK_URL: optionalString,
  ALERT_WEBHOOK_URL: optionalString,
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
});

export type Config = z.infer<typeof configSchema>;

export function parseConfig(env: Record<string, unknown>): Config {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    raw[key] = typeof value === 'string' ? value : undefined;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** The server-wide alert target variables, checked at start-up like a project's own targets. */
export const SERVER_ALERT_TARGETS = ['SLACK_WEBHOOK_URL', 'ALERT_WEBHOOK_URL'] as const;

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
    const problem = url && targetProblem(url, config.ALERT_ALLOW_PRIVATE_TARGETS);
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
