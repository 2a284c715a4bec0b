import { rmSync } from 'node:fs';
import { createNodeApp, type NodeApp } from '../../functions/server';
import { clientOver, type LogCenterHandle, type LogCenterOptions, testServerOptions } from './server';

const url = 'http://log-center.test';

/**
 * Log Center in this process, called through `app.request()`: the app, deps, writer thread and
 * timers the Node server runs, on a temporary libSQL file, with no port. For route cases; a
 * suite where the socket matters uses `startLogCenter` (server.ts).
 */
export async function startLogCenterApp(
  opts: LogCenterOptions = {},
): Promise<LogCenterHandle & { server: NodeApp }> {
  const options = testServerOptions(opts);
  const server = await createNodeApp(options);
  return {
    url,
    token: server.token,
    dataDir: options.dataDir,
    server,
    ...clientOver(async (path, init) => server.app.request(`${url}${path}`, asSent(init)), server.token),
    async stop() {
      await server.close();
      rmSync(options.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The request as the server sees it once it has crossed a socket: `fetch` declares the length
 * of a body it knows the size of, and the report route reads such a body differently from a
 * chunked one (suites that need a chunked body send it over a socket).
 */
function asSent(init: RequestInit): RequestInit {
  const { body } = init;
  const size =
    typeof body === 'string'
      ? Buffer.byteLength(body)
      : body instanceof Blob
        ? body.size
        : body instanceof ArrayBuffer || ArrayBuffer.isView(body)
          ? body.byteLength
          : undefined;
  const headers = new Headers(init.headers);
  if (size !== undefined && !headers.has('content-length')) headers.set('content-length', String(size));
  return { ...init, headers };
}
