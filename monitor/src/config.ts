import { z } from 'zod';

/** `'*'` watches every namespace; otherwise the listed ones. */
export type NamespaceScope = '*' | readonly string[];

// Kubernetes namespace names are DNS-1123 labels.
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const envSchema = z.object({
  LOG_CENTER_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:8002')
    .transform((url) => url.replace(/\/+$/, '')),
  LOG_CENTER_TOKEN: z
    .string({ error: 'required: the Log Center API token (GET /api/v1/projects needs it)' })
    .min(1),
  MONITOR_NAMESPACE: z
    .string()
    .default('default')
    .transform((value, ctx): NamespaceScope => {
      const names = [...new Set(value.split(',').map((n) => n.trim()))].filter(Boolean);
      if (names.includes('*')) return '*';
      const bad = names.filter((n) => !NAMESPACE_NAME.test(n));
      if (names.length === 0 || bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a comma-separated list of namespaces or "*", got ${JSON.stringify(value)}`,
        });
        return z.NEVER;
      }
      return names;
    }),
  POLL_SECONDS: seconds(60, 86_400),
  PROJECTS_REFRESH_SECONDS: seconds(300, 86_400),
  REQUEST_TIMEOUT_SECONDS: seconds(10, 300),
  LOG_TAIL_LINES: z.coerce.number().int().min(1).max(1000).default(50),
  /** Reported as `environment`; pods whose app label is a project's `-dev` variant report `development`. */
  ENVIRONMENT: z.string().trim().min(1).max(64).default('production'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type MonitorConfig = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid monitor configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): MonitorConfig {
  // An empty variable (`POLL_SECONDS=` in a manifest) means "use the default", as it does for a shell.
  const raw: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key]?.trim();
    if (value) raw[key] = value;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return parsed.data;
}
