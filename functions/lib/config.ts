import { z } from 'zod';

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

export const configSchema = z.object({
  LOG_CENTER_API_TOKEN: optionalString,
  GITEA_WEBHOOK_SECRET: optionalString,
  DEPLOY_WEBHOOK_SECRET: optionalString,
  SLACK_WEBHOOK_URL: optionalString,
  ALERT_WEBHOOK_URL: optionalString,
  PUBLIC_URL: optionalString,
  CORS_ORIGINS: optionalString,
  RETENTION_DAYS: intWithDefault(30),
  ALERT_THROTTLE_MINUTES: intWithDefault(60),
  REVIEW_REMINDER_HOURS: intWithDefault(24),
  /** Default per-project ingestion rate; 0 disables the limit. */
  RATE_LIMIT_PER_MINUTE: intWithDefault(6000),
  DEFAULT_LEASE_SECONDS: intWithDefault(1800),
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
