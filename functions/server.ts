import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import pLimit from 'p-limit';
import { createApp } from './app';
import type { Deps } from './env';
import { alertTargetConfigProblems, parseConfig } from './lib/config';
import { openFileWriter } from './lib/db-file';
import { migrateLibsql, normaliseLibsqlUrl, openLibsql } from './lib/db-libsql';
import { openFileReader } from './lib/file-reader';
import { setMailer } from './lib/mail';
import { sendWithNodemailer } from './lib/mail-node';
import { setHostResolver } from './lib/outbound';
import { lookupAll } from './lib/outbound-node';
import { projectRoot } from './lib/paths';
import { type BatchRunner, libsqlRunner } from './lib/sql-batch';
import { servingDashboard } from './middleware/headers';
import { flushAlerts } from './services/alerts';
import { type GroupCommitOptions, GroupCommitSink } from './services/group-commit';
import { ProjectCache } from './services/ingest';
import { ProjectSettingsCache, RateLimiter } from './services/ingest-gate';
import { refreshPlannerStats, sweep } from './services/lifecycle';
import { SearchIndexer } from './services/search-index';

const repoRoot = projectRoot();
/** How long queued alerts wait for company before they are flushed. */
const ALERT_GATHER_MS = 200;
/** New bugs wait this long for the search index, so a burst is indexed in one transaction. */
const SEARCH_INDEX_DELAY_MS = 250;

export interface ServerOptions {
  host?: string;
  port?: number;
  /** Folder for the default database file and the generated API token. */
  dataDir?: string;
  env?: Record<string, string | undefined>;
  groupCommit?: Partial<GroupCommitOptions>;
  /** Built dashboard to serve at `/`; skipped when the folder does not exist. */
  dashboardDir?: string;
  /** How often the sweep runs (the Worker's cron runs it every 5 minutes); 0 disables the timer. */
  sweepIntervalMs?: number;
  /** How often alerts that waited out a window or a retry delay are sent; 0 disables the timer. */
  alertFlushIntervalMs?: number;
  /** Limits on slow clients (docs/api.md, limits); tests shorten them. */
  timeouts?: Partial<SlowClientTimeouts>;
}

/** How long a client may take, in milliseconds (docs/api.md, limits). */
export interface SlowClientTimeouts {
  /** From a request's first byte to the end of its headers. */
  headersMs: number;
  /** From a request's first byte to the end of its body. */
  requestMs: number;
  /** An open connection with no request in it. */
  keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: SlowClientTimeouts = {
  headersMs: 30_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
};

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  tokenGenerated: boolean;
  databaseUrl: string;
  deps: Deps;
  close(): Promise<void>;
}

/** Reads the token kept in the data directory, creating it on first start. */
function ensureToken(dataDir: string): { token: string; generated: boolean } {
  const file = join(dataDir, 'api-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}

/** The app and everything it runs on, built and migrated but not listening on a port. */
export interface NodeApp {
  app: ReturnType<typeof createApp>;
  token: string;
  tokenGenerated: boolean;
  databaseUrl: string;
  deps: Deps;
  /**
   * Stops the timers, lets queued reports commit, waits for deferred work (alerts) and closes
   * the database. A listener passes `stopListening`: it is called before the queue drains (stop
   * accepting connections) and what it returns is awaited once it has (wait for open ones).
   */
  close(stopListening?: () => () => Promise<void>): Promise<void>;
}

/** Opens and migrates the database and builds the app with its sinks and timers; `startServer` listens. */
export async function createNodeApp(options: Omit<ServerOptions, 'host' | 'port'> = {}): Promise<NodeApp> {
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir ?? env.LOG_CENTER_DATA_DIR ?? join(process.cwd(), 'data'));
  const databaseUrl = env.LIBSQL_URL || `file:${join(dataDir, 'log-center.db')}`;
  let config = parseConfig(env);
  const refused = alertTargetConfigProblems(config);
  if (refused.length) throw new Error(`Invalid configuration: ${refused.map((p) => p.message).join('; ')}`);
  // Alert targets are checked again where their names lead when a message is sent.
  setHostResolver(lookupAll);
  // Email alerts need an SMTP client, which only this runtime has (the Worker skips them).
  setMailer(sendWithNodemailer);
  let tokenGenerated = false;
  if (!config.LOG_CENTER_API_TOKEN) {
    const kept = ensureToken(dataDir);
    config = { ...config, LOG_CENTER_API_TOKEN: kept.token };
    tokenGenerated = kept.generated;
  }

  const handle = await openLibsql(databaseUrl, env.LIBSQL_AUTH_TOKEN);
  await migrateLibsql(handle);
  await refreshPlannerStats(handle.db, 'full');

  const knownProjects = new ProjectCache();
  // A database file gets the writer thread, which has its own connection and so takes its turn
  // at the gate like the main thread's writes; a server URL is written through the client.
  const { gate } = handle;
  const filePath = normaliseLibsqlUrl(databaseUrl).match(/^file:([^?]*)/)?.[1];
  let writer: { run: BatchRunner; close(): Promise<void> };
  if (gate && filePath) {
    const thread = openFileWriter(filePath);
    writer = { run: (statements) => gate.run(() => thread.run(statements)), close: thread.close };
  } else {
    writer = { run: libsqlRunner(handle.client), close: async () => undefined };
  }
  // Reads of a database file run in read-only threads (lib/file-reader.ts), beside the writer.
  const reader = gate && filePath ? openFileReader(filePath) : null;
  const sink = new GroupCommitSink(writer.run, options.groupCommit, knownProjects);
  const searchIndexer = new SearchIndexer(writer.run, SEARCH_INDEX_DELAY_MS, (error) =>
    console.error(JSON.stringify({ level: 'error', msg: 'search indexing failed', error: String(error) })),
  );
  const deferred = new Set<Promise<unknown>>();
  let alertsSoon: ReturnType<typeof setTimeout> | null = null;
  let closing: Promise<void> | null = null;
  const flushGathered = () => {
    if (alertsSoon) clearTimeout(alertsSoon);
    alertsSoon = null;
    deps.defer(flushAlerts(handle.db, config));
  };
  const deps: Deps = {
    db: handle.db,
    reads: reader?.reads,
    // Parsing takes the CPU anyway: four at once keep both cores busy.
    bigBodies: pLimit(4),
    config,
    sink,
    knownProjects,
    projectSettings: new ProjectSettingsCache(),
    rateLimiter: new RateLimiter(),
    defer(task) {
      const tracked = task
        .catch((error) =>
          console.error(
            JSON.stringify({ level: 'error', msg: 'deferred task failed', error: String(error) }),
          ),
        )
        .finally(() => deferred.delete(tracked));
      deferred.add(tracked);
    },
    alertsQueued() {
      // A burst of new bugs becomes one flush (one claim, one digest) instead of one per report.
      // After close the alerts stay in the outbox for the next start.
      if (closing) return;
      alertsSoon ??= setTimeout(flushGathered, ALERT_GATHER_MS);
      alertsSoon.unref();
    },
    bugCreated: () => searchIndexer.bugCreated(),
  };

  const app = createApp(() => deps);
  const dashboardDir = resolve(options.dashboardDir ?? join(repoRoot, 'dashboard', 'dist'));
  if (existsSync(join(dashboardDir, 'index.html'))) {
    const root = relative(process.cwd(), dashboardDir) || '.';
    // The dashboard's security headers go on what these two answer, not on what they pass on
    // (the API, /docs): see middleware/headers.ts.
    app.use('/*', servingDashboard(serveStatic({ root })));
    // Client-side routes: anything that is not the API falls back to the app shell.
    const shell = servingDashboard(serveStatic({ root, path: 'index.html' }));
    app.get('*', async (c, next) => (c.req.path.startsWith('/api/') ? next() : shell(c, next)));
  }

  const sweepIntervalMs = options.sweepIntervalMs ?? 5 * 60_000;
  const sweeper =
    sweepIntervalMs > 0
      ? setInterval(() => {
          // Deferred, so shutdown lets a running sweep finish before the database closes.
          deps.defer(
            sweep(handle.db, { retentionDays: config.RETENTION_DAYS, alerts: config }).then(
              (result) => console.log(JSON.stringify({ level: 'info', msg: 'sweep', ...result })),
              (error) =>
                console.error(JSON.stringify({ level: 'error', msg: 'sweep failed', error: String(error) })),
            ),
          );
        }, sweepIntervalMs)
      : null;
  sweeper?.unref();
  // Requests flush the alerts they cause; this picks up the ones that waited (throttle,
  // digest, retry backoff) without waiting for the next sweep.
  const alertFlushIntervalMs = options.alertFlushIntervalMs ?? 15_000;
  const alertFlusher =
    alertFlushIntervalMs > 0
      ? setInterval(() => deps.defer(flushAlerts(handle.db, config)), alertFlushIntervalMs)
      : null;
  alertFlusher?.unref();

  return {
    app,
    token: config.LOG_CENTER_API_TOKEN!,
    tokenGenerated,
    databaseUrl,
    deps,
    close(stopListening) {
      closing ??= (async () => {
        if (sweeper) clearInterval(sweeper);
        if (alertFlusher) clearInterval(alertFlusher);
        const connectionsDone = stopListening?.();
        await sink.drain();
        await connectionsDone?.();
        if (alertsSoon) flushGathered();
        await Promise.allSettled([...deferred]);
        await searchIndexer.flush();
        await writer.close();
        await reader?.close();
        handle.close();
      })();
      return closing;
    },
  };
}

/**
 * node:http's own limits, set to docs/api.md, limits. Node checks for expired requests on an interval
 * (30 s by default), so a 30 s limit could hold a socket for a minute; checking at a quarter
 * of the shortest limit (at most every second) keeps the overshoot small.
 */
function slowClientOptions(limits: SlowClientTimeouts) {
  const shortest = Math.min(limits.headersMs, limits.requestMs);
  return {
    headersTimeout: limits.headersMs,
    requestTimeout: limits.requestMs,
    keepAliveTimeout: limits.keepAliveMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(shortest / 4))),
  };
}

const rawAnswer = (status: string) => `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`;

/**
 * Node answers a request that ran out of time with a bare 408; this sends the API's error
 * envelope instead. Taking the 'clientError' event over means answering the other socket-level
 * errors too: those get the answers Node would have sent.
 */
function answerTimeoutsWithJson(server: HttpServer) {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Only while nothing of an answer has gone out on this socket, or the client would read a
    // second status line inside the first answer.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent && error.code !== 'ECONNRESET') {
      if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        const body = JSON.stringify({
          error: {
            code: 'request_timeout',
            message: 'The request was not received in time',
            request_id: randomUUID(),
          },
        });
        socket.write(
          'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n' +
            'Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n' +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      } else if (error.code === 'HPE_HEADER_OVERFLOW') {
        socket.write(rawAnswer('431 Request Header Fields Too Large'));
      } else if (error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') {
        socket.write(rawAnswer('413 Payload Too Large'));
      } else {
        socket.write(rawAnswer('400 Bad Request'));
      }
    }
    socket.destroy();
  });
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const built = await createNodeApp(options);
  const server = serve({
    fetch: built.app.fetch,
    hostname: options.host ?? '127.0.0.1',
    port: options.port ?? 8002,
    serverOptions: slowClientOptions({ ...DEFAULT_TIMEOUTS, ...options.timeouts }),
  });
  answerTimeoutsWithJson(server as HttpServer);
  await new Promise<void>((ready, fail) => {
    if (server.listening) ready();
    server.once('listening', ready);
    server.once('error', fail);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  // Stop accepting connections, let queued reports commit and their requests get answered,
  // then let deferred work (alerts) finish before the database closes.
  const close = () =>
    built.close(() => {
      const stopped = new Promise<void>((done) => server.close(() => done()));
      // Keep-alive sockets become idle as their last answers go out; close them as they do.
      const reaper = setInterval(() => 'closeIdleConnections' in server && server.closeIdleConnections(), 20);
      return async () => {
        await Promise.race([stopped, new Promise((r) => setTimeout(r, 5_000))]);
        clearInterval(reaper);
        if ('closeAllConnections' in server) server.closeAllConnections();
      };
    });

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    token: built.token,
    tokenGenerated: built.tokenGenerated,
    databaseUrl: built.databaseUrl,
    deps: built.deps,
    close,
  };
}
