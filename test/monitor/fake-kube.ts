/**
 * A stand-in for the Kubernetes API server. No cluster can run in the test environment (no
 * container engine, no network), so this real `node:http` server on 127.0.0.1 answers the paths the
 * monitor's client calls, the way kube-apiserver does:
 *
 *   GET /api/v1/namespaces/{ns}/pods        PodList, paginated with `limit` / `continue`
 *   GET /api/v1/pods                        PodList across namespaces
 *   GET /api/v1/namespaces/{ns}/pods/{name}/log?container=&previous=&tailLines=
 *                                           text/plain, or a 400 `Status` when that instance has no log
 *
 * The monitor reaches it through a generated kubeconfig file (KUBECONFIG) with a bearer token, so
 * the client's real config loading, auth header and (de)serialisation are exercised.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface KubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
}

export interface FakeKube {
  url: string;
  token: string;
  /** Path of a kubeconfig file pointing at this server. */
  kubeconfig: string;
  /** Replaces a namespace's pods; objects are sent verbatim, as the API server would serialise them. */
  setPods(namespace: string, pods: object[]): void;
  /** Log text per container instance; a missing entry answers 400 like kube-apiserver. */
  setLog(
    namespace: string,
    pod: string,
    container: string,
    log: { previous?: string; current?: string },
  ): void;
  requests: KubeRequest[];
  /** `'unavailable'` answers 503 to everything; `'reset'` drops every connection; `'hang'` never answers. */
  failure: 'unavailable' | 'reset' | 'hang' | undefined;
  /** Largest page the server returns, whatever `limit` asks (the API allows fewer). */
  pageSize: number;
  close(): Promise<void>;
}

function status(res: ServerResponse, code: number, reason: string, message: string) {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

export async function startFakeKube(dir: string): Promise<FakeKube> {
  const token = `kube-token-${randomUUID()}`;
  const pods = new Map<string, object[]>();
  const logs = new Map<string, string>();
  let resourceVersion = 1000;

  const fake: FakeKube = {
    url: '',
    token,
    kubeconfig: join(dir, `kubeconfig-${randomUUID()}.yaml`),
    requests: [],
    failure: undefined,
    pageSize: 500,
    setPods(namespace, list) {
      resourceVersion++;
      pods.set(namespace, list);
    },
    setLog(namespace, pod, container, log) {
      if (log.previous !== undefined) logs.set(`${namespace}/${pod}/${container}/previous`, log.previous);
      if (log.current !== undefined) logs.set(`${namespace}/${pod}/${container}/current`, log.current);
    },
    close: async () => {},
  };

  const podList = (items: object[], query: Record<string, string>) => {
    const offset = query.continue ? Number(Buffer.from(query.continue, 'base64url').toString()) : 0;
    const limit = Math.min(Number(query.limit) || Number.POSITIVE_INFINITY, fake.pageSize);
    const page = items.slice(offset, offset + limit);
    const next =
      offset + page.length < items.length
        ? Buffer.from(String(offset + page.length)).toString('base64url')
        : '';
    return {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: {
        resourceVersion: String(resourceVersion),
        ...(next ? { continue: next, remainingItemCount: items.length - offset - page.length } : {}),
      },
      items: page,
    };
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    fake.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      authorization: req.headers.authorization,
    });
    if (fake.failure === 'reset') return req.socket.destroy();
    if (fake.failure === 'hang') return;
    if (fake.failure === 'unavailable')
      return status(res, 503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    if (req.headers.authorization !== `Bearer ${token}`)
      return status(res, 401, 'Unauthorized', 'Unauthorized');

    if (url.pathname === '/api/v1/pods') {
      const all = [...pods.values()].flat();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(podList(all, query)));
    }
    const listMatch = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods$/);
    if (listMatch) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(podList(pods.get(listMatch[1]!) ?? [], query)));
    }
    const logMatch = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/);
    if (logMatch) {
      const [, namespace, name] = logMatch as unknown as [string, string, string];
      const pod = (pods.get(namespace) ?? []).find(
        (p) => (p as { metadata: { name: string } }).metadata.name === name,
      );
      if (!pod) return status(res, 404, 'NotFound', `pods "${name}" not found`);
      const container = query.container ?? '';
      const previous = query.previous === 'true';
      const text = logs.get(`${namespace}/${name}/${container}/${previous ? 'previous' : 'current'}`);
      if (text === undefined) {
        return status(
          res,
          400,
          'BadRequest',
          previous
            ? `previous terminated container "${container}" in pod "${name}" not found`
            : `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`,
        );
      }
      const tail = Number(query.tailLines);
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      const body = Number.isInteger(tail) && tail >= 0 ? lines.slice(-tail) : lines;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end(body.length ? `${body.join('\n')}\n` : '');
    }
    return status(res, 404, 'NotFound', 'the server could not find the requested resource');
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  writeFileSync(
    fake.kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${fake.url}`,
      // client-node refuses plain http unless TLS verification is explicitly off
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: monitor',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: monitor',
      '    namespace: default',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return fake;
}
