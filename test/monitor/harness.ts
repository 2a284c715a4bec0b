import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../monitor/src/config';
import { jsonLogger, type LogFields } from '../../monitor/src/log';
import { createMonitor, type MonitorMode } from '../../monitor/src/monitor';
import type { ApiBug, LogCenterHandle } from '../helpers/server';
import { type FakeKube, startFakeKube } from './fake-kube';

export const namespace = () => `ns-${randomBytes(4).toString('hex')}`;
export const dashed = (projectId: string) => projectId.replaceAll('_', '-');

export type Bug = ApiBug;

export async function registerProject(
  lc: LogCenterHandle,
  projectId: string,
  fields: Record<string, unknown> = {},
) {
  const res = await lc.api(`/api/v1/projects/${projectId}`, {
    method: 'PUT',
    body: JSON.stringify({ name: projectId, ...fields }),
  });
  if (res.status !== 200) throw new Error(`PUT project ${projectId}: ${res.status} ${await res.text()}`);
}

/** The project's deployment bugs as the dashboard lists them. */
export async function deploymentBugs(lc: LogCenterHandle, projectId: string): Promise<Bug[]> {
  const res = await lc.api(`/api/v1/bugs?project_id=${projectId}&source=deployment&page_size=200`);
  if (res.status !== 200) throw new Error(`GET bugs: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { items: Bug[] }).items;
}

/**
 * A monitor wired exactly as `main.ts` wires it (config from env names, kubeconfig from KUBECONFIG),
 * against a fresh fake API server, with its JSON log lines captured.
 */
export async function setupMonitor(
  lc: { url: string; token: string },
  dir: string,
  options: { mode?: MonitorMode; env?: Record<string, string>; kube?: FakeKube } = {},
) {
  const kube = options.kube ?? (await startFakeKube(dir));
  process.env.KUBECONFIG = kube.kubeconfig;
  const logs: LogFields[] = [];
  const logger = jsonLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) });
  const config = loadConfig({ LOG_CENTER_URL: lc.url, LOG_CENTER_TOKEN: lc.token, ...options.env });
  const { monitor } = createMonitor(config, options.mode ?? 'poll', logger, {
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
  });
  return { kube, monitor, logs };
}

/** A pass-through proxy in front of Log Center that can be switched off, to simulate an outage. */
export async function startSwitchableProxy(target: string) {
  const state = { down: false, url: '', requests: 0 };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    if (state.down) return req.socket.destroy();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    delete headers.host;
    delete headers['content-length'];
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    res.writeHead(upstream.status, {
      'Content-Type': upstream.headers.get('content-type') ?? 'application/json',
    });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
