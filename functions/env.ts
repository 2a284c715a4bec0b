import type { D1Database } from '@cloudflare/workers-types';
import type { Config } from './lib/config';
import type { Db } from './lib/db';
import type { ProjectCache, ReportSink } from './services/ingest';
import type { ProjectSettingsCache, RateLimiter } from './services/ingest-gate';

/** Worker bindings (wrangler.toml vars, secrets, the optional D1 binding). */
export interface Bindings {
  DB?: D1Database;
  LIBSQL_URL?: string;
  LIBSQL_AUTH_TOKEN?: string;
  LOG_CENTER_API_TOKEN?: string;
  GITEA_WEBHOOK_SECRET?: string;
  DEPLOY_WEBHOOK_SECRET?: string;
  SLACK_WEBHOOK_URL?: string;
  ALERT_WEBHOOK_URL?: string;
  ALERT_ALLOW_PRIVATE_TARGETS?: string;
  PUBLIC_URL?: string;
  CORS_ORIGINS?: string;
  RETENTION_DAYS?: string;
  ALERT_THROTTLE_MINUTES?: string;
  REVIEW_REMINDER_HOURS?: string;
  RATE_LIMIT_PER_MINUTE?: string;
  MAX_PROJECTS?: string;
}

/** Everything a request needs; built by the entry (Node or Worker), never by a route. */
export interface Deps {
  db: Db;
  config: Config;
  sink: ReportSink;
  knownProjects: ProjectCache;
  projectSettings: ProjectSettingsCache;
  rateLimiter: RateLimiter;
  /** Defers work past the response: `waitUntil` on Workers, a detached promise on Node. */
  defer(task: Promise<unknown>): void;
  /**
   * The request queued alerts: deliver them after the answer. Workers flush within the
   * request; the Node server gathers a burst into one flush a moment later.
   */
  alertsQueued(): void;
}

export type AppEnv = {
  Bindings: Bindings;
  Variables: { deps: Deps; requestId: string };
};
