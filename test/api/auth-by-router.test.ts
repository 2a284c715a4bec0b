import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogCenterHandle, startLogCenter } from '../helpers/server';

/**
 * Auth is decided by the router a route is mounted on (functions/routes/private/index.ts),
 * not by its path. This walks every operation the API documents: the private ones must
 * refuse a call without the token, the public ones must never ask for it.
 */
interface Operation {
  method: string;
  path: string;
  private: boolean;
}

let lc: LogCenterHandle;
let operations: Operation[];

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '1');

beforeAll(async () => {
  lc = await startLogCenter();
  const doc = (await (await fetch(`${lc.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown[] }>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      private: Boolean(op.security?.length),
    })),
  );
});
afterAll(() => lc.stop());

function call(op: Operation, authorization?: string) {
  return fetch(`${lc.url}${concrete(op.path)}`, {
    method: op.method,
    headers: {
      'Content-Type': 'application/json',
      ...(authorization !== undefined && { Authorization: authorization }),
    },
    ...(op.method !== 'GET' && { body: '{}' }),
  });
}

describe('auth by router', () => {
  it('documents both kinds of route', () => {
    const privateOps = operations.filter((op) => op.private);
    expect(privateOps.length).toBeGreaterThanOrEqual(12);
    expect(operations.filter((op) => !op.private).map((op) => `${op.method} ${op.path}`)).toEqual(
      expect.arrayContaining([
        'POST /api/v1/logs/report',
        'GET /api/health',
        'POST /api/webhooks/gitea',
        'POST /api/webhooks/deployment',
        'POST /api/{sentryId}/envelope/',
        'POST /api/{sentryId}/store/',
      ]),
    );
  });

  it('refuses every private operation without a token, or with a wrong one', async () => {
    for (const op of operations.filter((o) => o.private)) {
      for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${lc.token}`, lc.token]) {
        const res = await call(op, authorization);
        expect(res.status, `${op.method} ${op.path} with ${authorization ?? 'no header'}`).toBe(401);
        expect(res.headers.get('WWW-Authenticate')).toBe('Bearer');
        const body = (await res.json()) as { error: { code: string } };
        expect(body.error.code).toBe('unauthorized');
      }
    }
  });

  it('lets the token through, with the scheme in any case', async () => {
    for (const op of operations.filter((o) => o.private)) {
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
        const res = await call(op, `${scheme} ${lc.token}`);
        expect(res.status, `${op.method} ${op.path}`).not.toBe(401);
        await res.body?.cancel();
      }
    }
  });

  it('never asks for the token on a public operation', async () => {
    for (const op of operations.filter((o) => !o.private)) {
      const res = await call(op);
      // Sentry endpoints answer 401 for an unknown project or a missing DSN key: their own
      // credential, never the API token's challenge.
      expect(res.headers.get('WWW-Authenticate'), `${op.method} ${op.path}`).toBeNull();
      const body = (await res.json()) as { error?: { message: string } };
      expect(body.error?.message ?? '', `${op.method} ${op.path}`).not.toContain('LOG_CENTER_API_TOKEN');
    }
    for (const path of ['/openapi.json', '/docs']) {
      expect((await fetch(`${lc.url}${path}`)).status).toBe(200);
    }
  });

  it('guards unknown paths under the private prefix, and answers 404 once the token is given', async () => {
    expect((await fetch(`${lc.url}/api/v1/not-a-route`)).status).toBe(401);
    expect((await lc.api('/api/v1/not-a-route')).status).toBe(404);
  });
});
