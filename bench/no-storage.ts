import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from '../functions/app';
import type { Deps } from '../functions/env';
import { parseConfig } from '../functions/lib/config';
import { migrateLibsql, openLibsql } from '../functions/lib/db-libsql';
import { ProjectCache, type ReportSink } from '../functions/services/ingest';
import { ProjectSettingsCache, RateLimiter } from '../functions/services/ingest-gate';

// Where the time goes: the same app, routes and validation as the server, with a sink that
// answers "deduplicated" without writing. Ingestion's cost over this is the storage; its
// cost over the bare endpoint is the request path of a real report (validation,
// normalisation, fingerprint) plus the storage. Bench only; never a way to run Log Center.
const handle = await openLibsql(`file:${join(mkdtempSync(join(tmpdir(), 'no-storage-')), 'db.sqlite')}`);
await migrateLibsql(handle);
const answerWithoutWriting: ReportSink = {
  submit: async () => ({ id: 1, outcome: 'dedup', status: 'NEW' }),
};
const deps: Deps = {
  db: handle.db,
  config: parseConfig({ LOG_CENTER_API_TOKEN: 'bench', RATE_LIMIT_PER_MINUTE: '0' }),
  sink: answerWithoutWriting,
  knownProjects: new ProjectCache(),
  projectSettings: new ProjectSettingsCache(),
  rateLimiter: new RateLimiter(),
  defer: () => undefined,
  alertsQueued: () => undefined,
};
const app = createApp(() => deps);

const server = serve(
  { fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) },
  (info) => {
    console.log(`no-storage listening on http://127.0.0.1:${info.port}`);
  },
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
