import type { ExecutionContext, ScheduledController } from '@cloudflare/workers-types';
import { createClient } from '@libsql/client/web';
import { drizzle as drizzleD1 } from 'drizzle-orm/d1';
import { drizzle as drizzleLibsql } from 'drizzle-orm/libsql';
import * as schema from '../schema';
import { createApp } from './app';
import type { Bindings, Deps } from './env';
import { alertTargetConfigProblems, type Config, parseConfig } from './lib/config';
import type { Db } from './lib/db';
import { type BatchRunner, d1Runner, libsqlRunner } from './lib/sql-batch';
import { flushAlerts } from './services/alerts';
import { DirectSink, ProjectCache } from './services/ingest';
import { ProjectSettingsCache, RateLimiter } from './services/ingest-gate';
import { sweep } from './services/lifecycle';
import { indexNewBugs } from './services/search-index';

// Caches only (no database handles) live across requests in an isolate.
const knownProjects = new ProjectCache();
const projectSettings = new ProjectSettingsCache();
const rateLimiter = new RateLimiter();
const configs = new WeakMap<object, Config>();

function databaseFor(env: Bindings): { db: Db; run: BatchRunner } {
  if (env.DB) return { db: drizzleD1(env.DB, { schema }) as unknown as Db, run: d1Runner(env.DB) };
  if (env.LIBSQL_URL) {
    const client = createClient({ url: env.LIBSQL_URL, authToken: env.LIBSQL_AUTH_TOKEN });
    return { db: drizzleLibsql(client, { schema }) as unknown as Db, run: libsqlRunner(client) };
  }
  throw new Error('Bind a D1 database as DB or set LIBSQL_URL');
}

/**
 * A server-wide alert target that points inside is logged and dropped rather than failing
 * every request: ingestion matters more than alerts. The Worker has no DNS API, so only the
 * URL as written is checked here and at send time.
 */
function withoutRefusedTargets(config: Config): Config {
  const refused = alertTargetConfigProblems(config);
  if (!refused.length) return config;
  const kept = { ...config };
  for (const { variable, message } of refused) {
    kept[variable] = undefined;
    console.error(JSON.stringify({ level: 'error', msg: 'alert target ignored', error: message }));
  }
  return kept;
}

export function depsFor(env: Bindings, waitUntil: (task: Promise<unknown>) => void): Deps {
  let config = configs.get(env);
  if (!config) {
    config = withoutRefusedTargets(parseConfig(env as Record<string, unknown>));
    configs.set(env, config);
  }
  const { db, run } = databaseFor(env);
  return {
    db,
    config,
    // Per-request writes: each request is its own isolate turn, so there is nothing to group.
    sink: new DirectSink(run, knownProjects),
    knownProjects,
    projectSettings,
    rateLimiter,
    defer: waitUntil,
    alertsQueued: () => waitUntil(flushAlerts(db, config)),
    bugCreated: () => waitUntil(indexNewBugs(db)),
  };
}

const app = createApp((c) => depsFor(c.env, (task) => c.executionCtx.waitUntil(task)));

export default {
  fetch: (request: Request, env: Bindings, ctx: ExecutionContext) => app.fetch(request, env, ctx),
  async scheduled(_controller: ScheduledController, env: Bindings, ctx: ExecutionContext) {
    const deps = depsFor(env, (task) => ctx.waitUntil(task));
    const result = await sweep(deps.db, { retentionDays: deps.config.RETENTION_DAYS, alerts: deps.config });
    console.log(JSON.stringify({ level: 'info', msg: 'sweep', ...result }));
  },
};
