import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from '@hono/zod-openapi';
import { BugSchema, type ProjectSchema, pageOf } from '../../functions/routes/schemas';
import { type RunningServer, type ServerOptions, startServer } from '../../functions/server';

/** A bug as the API answers it, typed from the route's own schema. */
export type ApiBug = z.infer<typeof BugSchema>;
export type ApiProject = z.infer<typeof ProjectSchema>;
export const BugPageSchema = pageOf(BugSchema, 'BugPage');

/**
 * The answer's JSON, checked against the route's own schema (the one /openapi.json documents).
 * It is returned as sent, so a test still sees a field the schema leaves out.
 */
export async function bodyAs<S extends z.ZodType>(schema: S, res: Response): Promise<z.infer<S>> {
  const body: unknown = await res.json();
  schema.parse(body);
  return body as z.infer<S>;
}

/** A Log Center as a suite drives it: over a socket (`startLogCenter`) or in process (app.ts). */
export interface LogCenterHandle {
  url: string;
  token: string;
  dataDir: string;
  /** What the app runs on (database, config, sinks), for tests that look behind the API. */
  server: Pick<RunningServer, 'deps' | 'token' | 'databaseUrl'>;
  /** A request as any client sends it: no token, no headers added. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A request with the bearer token and a JSON content type. */
  api(path: string, init?: RequestInit): Promise<Response>;
  report(body: unknown, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface LogCenterOptions {
  env?: Record<string, string>;
  groupCommit?: ServerOptions['groupCommit'];
  /** A dashboard build to serve instead of dashboard/dist. */
  dashboardDir?: string;
}

let counter = 0;
/** A unique project id per call, so suites never share data. */
export const uniqueProject = (prefix = 'proj') =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;

/** A temporary data folder and the options both kinds of handle start Log Center with. */
export function testServerOptions(opts: LogCenterOptions): ServerOptions & { dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'log-center-test-'));
  const token = `test-token-${Math.random().toString(36).slice(2)}`;
  return {
    dataDir,
    env: { LOG_CENTER_API_TOKEN: token, RATE_LIMIT_PER_MINUTE: '0', ...opts.env },
    groupCommit: opts.groupCommit,
    dashboardDir: opts.dashboardDir,
  };
}

/** `fetch`, `api` and `report` over one way of sending a request. */
export function clientOver(
  send: (path: string, init: RequestInit) => Promise<Response>,
  token: string,
): Pick<LogCenterHandle, 'fetch' | 'api' | 'report'> {
  return {
    fetch: (path, init = {}) => send(path, init),
    api: (path, init = {}) =>
      send(path, {
        ...init,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...init.headers },
      }),
    report: (body, init = {}) =>
      send('/api/v1/logs/report', {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...init,
        headers: { 'Content-Type': 'application/json', ...init.headers },
      }),
  };
}

/**
 * A real Log Center Node server on a temporary libSQL file and a random loopback port, for
 * suites where the socket is the point (CORS from a browser, sendBeacon, chunked bodies,
 * shutdown, concurrency) or where another process calls it. Route cases use app.ts.
 */
export async function startLogCenter(
  opts: LogCenterOptions = {},
): Promise<LogCenterHandle & { server: RunningServer }> {
  const options = testServerOptions(opts);
  const server = await startServer({ ...options, port: 0 });
  return {
    url: server.url,
    token: server.token,
    dataDir: options.dataDir,
    server,
    ...clientOver((path, init) => fetch(`${server.url}${path}`, init), server.token),
    async stop() {
      await server.close();
      rmSync(options.dataDir, { recursive: true, force: true });
    },
  };
}
