import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * The Claude Code CLI in print mode: the prompt comes on stdin, `--output-format json` prints one
 * object with `result`, `usage` and `modelUsage` (tokens and model for the report), and
 * `acceptEdits` lets it edit files without a person at the terminal while shell commands stay
 * denied.
 */
export const DEFAULT_FIXER_CMD = 'claude -p --output-format json --permission-mode acceptEdits';

const seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const optionalText = z.string().min(1).optional();
const httpUrl = z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, ''));

const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const envSchema = z.object({
  LOG_CENTER_URL: httpUrl.default('http://127.0.0.1:8002'),
  LOG_CENTER_TOKEN: z.string({ error: 'required: the Log Center API token' }).min(1),
  AGENT_ID: z.string().max(200).default(`repair-agent@${hostname()}`),
  AGENT_PROJECTS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const ids = [...new Set(value.split(',').map((id) => id.trim()))].filter(Boolean);
      const bad = ids.filter((id) => !PROJECT_ID.test(id));
      if (bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `not project ids: ${bad.join(', ')}` });
        return z.NEVER;
      }
      return ids.length > 0 ? ids : undefined;
    }),
  AGENT_WORKDIR: z
    .string()
    .default(join(homedir(), '.cache', 'log-center-agent'))
    .transform((dir) => resolve(dir)),
  AGENT_POLL_SECONDS: seconds(60, 86_400),
  AGENT_FIXER_CMD: z.string().min(1).default(DEFAULT_FIXER_CMD),
  AGENT_FIXER_TIMEOUT_SECONDS: seconds(900, 86_400),
  AGENT_TEST_CMD: optionalText,
  AGENT_TEST_TIMEOUT_SECONDS: seconds(600, 86_400),
  /** Defaults to the fixer and test time limits plus room for git and the API calls. */
  AGENT_LEASE_SECONDS: z.coerce.number().int().min(60).max(86_400).optional(),
  AGENT_PR_PROVIDER: z.enum(['auto', 'gitea', 'github']).default('auto'),
  GITEA_URL: httpUrl.optional(),
  GITEA_TOKEN: optionalText,
  GITHUB_API_URL: httpUrl.default('https://api.github.com'),
  GITHUB_TOKEN: optionalText,
  AGENT_GIT_NAME: z.string().min(1).default('Log Center repair agent'),
  AGENT_GIT_EMAIL: z.string().min(1).default('repair-agent@log-center.invalid'),
});

function toConfig(env: z.infer<typeof envSchema>) {
  return {
    logCenterUrl: env.LOG_CENTER_URL,
    logCenterToken: env.LOG_CENTER_TOKEN,
    agentId: env.AGENT_ID,
    projects: env.AGENT_PROJECTS,
    workdir: env.AGENT_WORKDIR,
    pollSeconds: env.AGENT_POLL_SECONDS,
    fixerCommand: env.AGENT_FIXER_CMD,
    fixerTimeoutSeconds: env.AGENT_FIXER_TIMEOUT_SECONDS,
    testCommand: env.AGENT_TEST_CMD,
    testTimeoutSeconds: env.AGENT_TEST_TIMEOUT_SECONDS,
    leaseSeconds:
      env.AGENT_LEASE_SECONDS ?? env.AGENT_FIXER_TIMEOUT_SECONDS + env.AGENT_TEST_TIMEOUT_SECONDS + 300,
    prProvider: env.AGENT_PR_PROVIDER,
    giteaUrl: env.GITEA_URL,
    giteaToken: env.GITEA_TOKEN,
    githubApiUrl: env.GITHUB_API_URL,
    githubToken: env.GITHUB_TOKEN,
    gitName: env.AGENT_GIT_NAME,
    gitEmail: env.AGENT_GIT_EMAIL,
  };
}

export type AgentConfig = ReturnType<typeof toConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid agent configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  // An empty variable (`AGENT_TEST_CMD=` in a unit file) means "not set", as it does for a shell.
  const raw: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key]?.trim();
    if (value) raw[key] = value;
  }
  const parsed = envSchema.safeParse(raw);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (!raw.GITEA_TOKEN && !raw.GITHUB_TOKEN) {
    problems.push('GITEA_TOKEN: required (or GITHUB_TOKEN): without one no pull request can be opened');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const config = toConfig(parsed.data);
  // A lease shorter than the work lets the sweep hand the bug to another agent mid-repair.
  if (config.leaseSeconds < config.fixerTimeoutSeconds + config.testTimeoutSeconds) {
    throw new ConfigError([
      'AGENT_LEASE_SECONDS: must cover AGENT_FIXER_TIMEOUT_SECONDS + AGENT_TEST_TIMEOUT_SECONDS',
    ]);
  }
  return config;
}
