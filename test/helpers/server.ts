import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from '@hono/zod-openapi';
import type { BugSchema } from '../../functions/routes/schemas';
import { type RunningServer, type ServerOptions, startServer } from '../../functions/server';

/** A bug as the API answers it, typed from the route's own schema. */
export type ApiBug = z.infer<typeof BugSchema>;

export interface LogCenterHandle {
  url: string;
  token: string;
  dataDir: string;
  server: RunningServer;
  /** fetch against the server with the bearer token set. */
  api(path: string, init?: RequestInit): Promise<Response>;
  report(body: unknown, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

let counter = 0;
/** A unique project id per call, so suites never share data. */
export const uniqueProject = (prefix = 'proj') =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;

/** A real Log Center Node server on a temporary libSQL file and a random loopback port. */
export async function startLogCenter(
  opts: { env?: Record<string, string>; groupCommit?: ServerOptions['groupCommit'] } = {},
): Promise<LogCenterHandle> {
  const dataDir = mkdtempSync(join(tmpdir(), 'log-center-test-'));
  const token = `test-token-${Math.random().toString(36).slice(2)}`;
  const server = await startServer({
    port: 0,
    dataDir,
    env: { LOG_CENTER_API_TOKEN: token, RATE_LIMIT_PER_MINUTE: '0', ...opts.env },
    groupCommit: opts.groupCommit,
  });
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: {
        Authorization: `Bearer ${server.token}`,
        'Content-Type': 'application/json',
        ...init.headers,
      },
    });
  return {
    url: server.url,
    token: server.token,
    dataDir,
    server,
    api,
    report: (body, init = {}) =>
      fetch(`${server.url}/api/v1/logs/report`, {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...init,
        headers: { 'Content-Type': 'application/json', ...init.headers },
      }),
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
