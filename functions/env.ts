import type { D1Database } from '@cloudflare/workers-types';
import type { Config } from './lib/config';
import type { Db } from './lib/db';
import type { ProjectCache, ReportSink } from './services/ingest';
import type { ProjectSettingsCache, RateLimiter } from './services/ingest-gate';
import type { Reads } from './services/reads';

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
  SMTP_URL?: string;
  ALERT_EMAIL_FROM?: string;
  ALERT_EMAIL_TO?: string;
  DINGTALK_WEBHOOK_URL?: string;
  DINGTALK_SECRET?: string;
  WECOM_WEBHOOK_URL?: string;
  PUBLIC_URL?: string;
  CORS_ORIGINS?: string;
  RETENTION_DAYS?: string;
  ALERT_THROTTLE_MINUTES?: string;
  REVIEW_REMINDER_HOURS?: string;
  RATE_LIMIT_PER_MINUTE?: string;
  MAX_PROJECTS?: string;
  GITEA_URL?: string;
  GITEA_TOKEN?: string;
  GITEA_TIMEOUT_SECONDS?: string;
}

/** Everything a request needs; built by the entry (Node or Worker), never by a route. */
export interface Deps {
  db: Db;
  /**
   * The bug list, bug pages and statistics (services/reads.ts): on a Node database file run
   * whole in read threads (lib/file-reader.ts); where absent, in process on `db`.
   */
  reads?: Reads;
  config: Config;
  /**
   * Node: report bodies over 64 KiB are read and parsed a few at a time; the others wait in
   * their sockets, not in memory (docs/performance.md). Absent on the Worker, whose isolate
   * must not start one request's reads from another's.
   */
  bigBodies?: <T>(task: () => Promise<T>) => Promise<T>;
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
  /**
   * A report created a bug: index it for `q` soon (services/search-index.ts). Until then the
   * list finds it by LIKE; absent where something else indexes (the sweep always does).
   */
  bugCreated?(): void;
}

export type AppEnv = {
  Bindings: Bindings;
  Variables: { deps: Deps; requestId: string };
};
