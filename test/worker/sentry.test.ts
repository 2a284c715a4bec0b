import { env, SELF } from 'cloudflare:test';
import { brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

// Sentry ingestion inside workerd with D1: the Worker entry, its decoding (node:zlib under
// nodejs_compat), D1 writes. Bodies are compressed with the runtime's own CompressionStream,
// as a Worker-side tunnel or an edge SDK would.
const ORIGIN = 'https://log-center.test';
const TOKEN = 'worker-test-token';

const api = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`${ORIGIN}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
  });

interface Project {
  sentry_id: number;
  sentry_dsn: string;
}

interface Bug {
  id: number;
  level: string;
  environment: string;
  version: string | null;
  occurrence_count: number;
  error: {
    type: string;
    message: string;
    file_path: string | null;
    line_number: number | null;
    stack_trace: string[];
  };
  context: { event_id?: string; platform?: string; sdk?: { name: string } };
}

async function sentryProject(id: string, settings: Record<string, unknown> = {}): Promise<Project> {
  const put = await api(`/api/v1/projects/${id}`, { method: 'PUT', body: JSON.stringify(settings) });
  expect(put.status).toBe(200);
  return (await api(`/api/v1/projects/${id}`)).json<Project>();
}

async function bugsOf(projectId: string): Promise<Bug[]> {
  const res = await api(`/api/v1/bugs?project_id=${projectId}`);
  expect(res.status).toBe(200);
  return (await res.json<{ items: Bug[] }>()).items;
}

/** The endpoint an SDK derives from the DSN: `{scheme}://{host}/api/{N}/envelope/`. */
const envelopeUrl = (dsn: string) => {
  const url = new URL(dsn);
  return `${url.protocol}//${url.host}/api${url.pathname}/envelope/`;
};

const encoder = new TextEncoder();
const hex32 = () => crypto.randomUUID().replaceAll('-', '');

function envelope(
  header: Record<string, unknown>,
  items: [Record<string, unknown>, unknown][],
): Uint8Array<ArrayBuffer> {
  const lines = [JSON.stringify(header)];
  for (const [itemHeader, payload] of items) lines.push(JSON.stringify(itemHeader), JSON.stringify(payload));
  return new Uint8Array(encoder.encode(lines.join('\n')));
}

async function compress(
  bytes: Uint8Array<ArrayBuffer>,
  format: CompressionFormat,
): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A browser error as @sentry/browser sends it: URL frames, in_app everywhere. */
const browserEvent = (eventId: string) => ({
  event_id: eventId,
  level: 'error',
  platform: 'javascript',
  environment: 'edge',
  release: 'shop@a1b2c3d4',
  timestamp: Date.now() / 1000,
  sdk: { name: 'sentry.javascript.browser', version: '10.78.0' },
  exception: {
    values: [
      {
        type: 'TypeError',
        value: 'cart.items is undefined',
        stacktrace: {
          frames: [
            {
              filename: 'https://shop.example.com/assets/vendor.js',
              function: 'dispatch',
              lineno: 1,
              colno: 900,
            },
            {
              filename: 'https://shop.example.com/assets/cart.js',
              function: 'renderCart',
              lineno: 88,
              colno: 13,
            },
          ],
        },
        mechanism: { type: 'auto.browser.global_handlers.onerror', handled: false },
      },
    ],
  },
});

/** A sentry-python chain: ValueError raised from a KeyError, the newest frame in a library. */
const pythonEvent = (eventId: string) => ({
  event_id: eventId,
  level: 'fatal',
  platform: 'python',
  environment: 'production',
  release: 'billing@1.8.0',
  timestamp: '2026-05-04T12:00:00.000000Z',
  sdk: { name: 'sentry.python', version: '2.68.0' },
  exception: {
    values: [
      {
        type: 'KeyError',
        value: "'plan'",
        stacktrace: {
          frames: [{ filename: 'billing/plans.py', function: 'lookup', lineno: 7, in_app: true }],
        },
      },
      {
        type: 'ValueError',
        value: 'customer 5 has no plan',
        stacktrace: {
          frames: [
            { filename: 'billing/views.py', function: 'invoice', lineno: 31, in_app: true },
            { filename: 'django/db/models/query.py', function: 'get', lineno: 645, in_app: false },
          ],
        },
      },
    ],
  },
});

describe('Sentry ingestion on Workers with D1', () => {
  it('hands out a DSN on the request origin and stores a gzip envelope sent with it', async () => {
    const project = await sentryProject('w_sentry_gzip', { ingest_key: 'worker_key_123' });
    expect(project.sentry_dsn).toBe(`https://worker_key_123@log-center.test/${project.sentry_id}`);

    const id = hex32();
    const body = await compress(
      envelope({ event_id: id, sdk: { name: 'sentry.javascript.browser' } }, [
        [{ type: 'event' }, browserEvent(id)],
      ]),
      'gzip',
    );
    const res = await SELF.fetch(
      `${envelopeUrl(project.sentry_dsn)}?sentry_key=worker_key_123&sentry_version=7`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Encoding': 'gzip' },
        body,
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(await res.json()).toEqual({ id });

    const [bug, ...others] = await bugsOf('w_sentry_gzip');
    expect(others).toEqual([]);
    expect(bug).toMatchObject({
      level: 'ERROR',
      environment: 'edge',
      version: 'shop@a1b2c3d4',
      occurrence_count: 1,
      error: {
        type: 'TypeError',
        message: 'cart.items is undefined',
        file_path: '/assets/cart.js',
        line_number: 88,
        stack_trace: [
          'TypeError: cart.items is undefined',
          '  at renderCart (https://shop.example.com/assets/cart.js:88:13)',
          '  at dispatch (https://shop.example.com/assets/vendor.js:1:900)',
        ],
      },
      context: { event_id: id, platform: 'javascript', sdk: { name: 'sentry.javascript.browser' } },
    });
    // The row is in the D1 binding the Worker was given.
    const row = await env.DB.prepare('SELECT error_type, occurrence_count FROM bugs WHERE id = ?')
      .bind(bug!.id)
      .first<{ error_type: string; occurrence_count: number }>();
    expect(row).toEqual({ error_type: 'TypeError', occurrence_count: 1 });
  });

  it.each([
    ['deflate', 'deflate'],
    ['raw deflate labelled deflate', 'deflate-raw'],
  ] as const)('stores a sentry-python envelope sent %s with X-Sentry-Auth', async (_name, format) => {
    const projectId = `w_sentry_${format.replace('-', '_')}`;
    const project = await sentryProject(projectId, { ingest_key: 'python_key_456' });
    const id = hex32();
    const res = await SELF.fetch(envelopeUrl(project.sentry_dsn), {
      method: 'POST',
      headers: {
        'X-Sentry-Auth':
          'Sentry sentry_key=python_key_456, sentry_version=7, sentry_client=sentry.python/2.68.0',
        'Content-Type': 'application/x-sentry-envelope',
        'Content-Encoding': 'deflate',
      },
      body: await compress(envelope({ event_id: id }, [[{ type: 'event' }, pythonEvent(id)]]), format),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id });
    const [bug] = await bugsOf(projectId);
    expect(bug).toMatchObject({
      level: 'CRITICAL',
      error: {
        type: 'ValueError',
        message: 'customer 5 has no plan',
        file_path: 'billing/views.py',
        line_number: 31,
      },
    });
    expect(bug!.error.stack_trace).toContain("Caused by: KeyError: 'plan'");
  });

  it('stores a brotli envelope, decoded with node:zlib in workerd', async () => {
    const project = await sentryProject('w_sentry_br');
    const id = hex32();
    const res = await SELF.fetch(`${envelopeUrl(project.sentry_dsn)}?sentry_key=public`, {
      method: 'POST',
      headers: { 'Content-Encoding': 'br' },
      body: new Uint8Array(
        brotliCompressSync(envelope({ event_id: id }, [[{ type: 'event' }, pythonEvent(id)]])),
      ),
    });
    expect(res.status).toBe(200);
    expect((await bugsOf('w_sentry_br')).map((b) => b.error.type)).toEqual(['ValueError']);
  });

  it('stores one plain JSON event on the legacy store endpoint and counts its repeat', async () => {
    const project = await sentryProject('w_sentry_store');
    const store = envelopeUrl(project.sentry_dsn).replace(/envelope\/$/, 'store/');
    for (const id of [hex32(), hex32()]) {
      const res = await SELF.fetch(store, {
        method: 'POST',
        headers: {
          'X-Sentry-Auth': 'Sentry sentry_key=public, sentry_version=7',
          'Content-Type': 'application/json',
        },
        body: JSON.stringify(browserEvent(id)),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id });
    }
    const bugs = await bugsOf('w_sentry_store');
    expect(bugs.map((b) => [b.error.type, b.occurrence_count])).toEqual([['TypeError', 2]]);
  });

  it('refuses bad input with Relay CORS headers and stores nothing', async () => {
    const project = await sentryProject('w_sentry_bad', { ingest_key: 'worker_key_789' });
    const url = `${envelopeUrl(project.sentry_dsn)}?sentry_key=worker_key_789`;
    const good = envelope({}, [[{ type: 'event' }, browserEvent(hex32())]]);
    // 8 MiB of newlines after a valid event: a few KiB gzipped, past the 4 MiB decoding cap.
    const padded = new Uint8Array(good.byteLength + 8 * 1024 * 1024).fill(0x0a);
    padded.set(good);
    const cases: [string, RequestInit, number, string][] = [
      ['zstd', { headers: { 'Content-Encoding': 'zstd' }, body: good }, 415, 'unsupported_encoding'],
      ['not gzip', { headers: { 'Content-Encoding': 'gzip' }, body: good }, 400, 'invalid_encoding'],
      [
        'a gzip bomb',
        { headers: { 'Content-Encoding': 'gzip' }, body: await compress(padded, 'gzip') },
        413,
        'payload_too_large',
      ],
      ['not JSON', { body: '{}\n{"type":"event"}\n{oops' }, 400, 'invalid_json'],
    ];
    for (const [name, init, status, code] of cases) {
      const res = await SELF.fetch(url, { method: 'POST', ...init });
      expect(res.status, name).toBe(status);
      expect(res.headers.get('Access-Control-Allow-Origin'), name).toBe('*');
      expect(res.headers.get('Access-Control-Expose-Headers'), name).toBe(
        'x-sentry-error, x-sentry-rate-limits, retry-after',
      );
      expect((await res.json<{ error: { code: string } }>()).error.code, name).toBe(code);
    }
    const wrongKey = await SELF.fetch(url.replace('worker_key_789', 'wrong_key_000'), {
      method: 'POST',
      body: good,
    });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(await bugsOf('w_sentry_bad')).toEqual([]);
  });
});
