import { brotliCompressSync, gzipSync } from 'node:zlib';
import { OpenAPIHono } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { requestId } from 'hono/request-id';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppEnv, Deps } from '../../functions/env';
import { parseConfig } from '../../functions/lib/config';
import { libsqlRunner } from '../../functions/lib/sql-batch';
import { sentryRoutes } from '../../functions/routes/public/sentry';
import { ErrorSchema } from '../../functions/routes/schemas';
import { DirectSink, ProjectCache } from '../../functions/services/ingest';
import { ProjectSettingsCache, RateLimiter } from '../../functions/services/ingest-gate';
import { bugs } from '../../schema';
import { openTempDatabase, type TempDatabase } from '../helpers/database';
import {
  browserEvent,
  createProject,
  EVENT_ID,
  envelope,
  jsCaptureMessageEvent,
  nodeEnvelope,
  nodeUncaughtEvent,
  pythonChainedEvent,
  pythonEnvelope,
} from './fixtures';

const KEY = 'e12d836b15bb49d7bbf99e64295d995b';
const PYTHON_AUTH = `Sentry sentry_key=${KEY}, sentry_version=7, sentry_client=sentry.python/2.19.0`;

let temp: TempDatabase;
let deps: Deps;
let app: OpenAPIHono<AppEnv>;
const alertsQueued = vi.fn();
/** Sentry id of each project, by project id. */
const ids: Record<string, number> = {};

async function project(id: string, values: Parameters<typeof createProject>[2] = {}) {
  ids[id] = await createProject(temp.handle.db, id, values);
  return ids[id];
}

const bugsOf = (projectId: string) => temp.handle.db.select().from(bugs).where(eq(bugs.projectId, projectId));

beforeAll(async () => {
  temp = await openTempDatabase('sentry-route');
  deps = {
    db: temp.handle.db,
    config: parseConfig({ RATE_LIMIT_PER_MINUTE: '0' }),
    sink: new DirectSink(libsqlRunner(temp.handle.client), new ProjectCache()),
    knownProjects: new ProjectCache(),
    projectSettings: new ProjectSettingsCache(),
    rateLimiter: new RateLimiter(),
    defer: () => {},
    alertsQueued,
  };
  app = new OpenAPIHono<AppEnv>();
  app.use('*', requestId());
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.route('/', sentryRoutes);
  await project('open_app');
  await project('keyed_app', { ingestKey: KEY });
  await project('slow_app', { rateLimitPerMinute: 1 });
});
afterAll(() => temp.remove());

const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  app.request(path, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers,
  });

function expectRelayCors(res: Response) {
  expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
  expect(res.headers.get('Access-Control-Allow-Methods')).toBe('POST');
  expect(res.headers.get('Access-Control-Allow-Headers')).toContain('x-sentry-auth');
  expect(res.headers.get('Access-Control-Allow-Headers')).toContain('content-encoding');
  expect(res.headers.get('Access-Control-Expose-Headers')).toBe(
    'x-sentry-error, x-sentry-rate-limits, retry-after',
  );
  expect(res.headers.get('Access-Control-Max-Age')).toBe('3600');
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expectRelayCors(res);
  const body = ErrorSchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(res.headers.get('X-Sentry-Error')).toBe(body.error.message.slice(0, 200));
  return body.error;
}

describe('stored events', () => {
  it('stores an @sentry/node envelope (no content type, key in the query) and answers its id', async () => {
    const n = ids.open_app!;
    const res = await post(`/api/${n}/envelope/?sentry_version=7&sentry_key=public`, nodeEnvelope());
    expect(res.status).toBe(200);
    expectRelayCors(res);
    expect(await res.json()).toEqual({ id: EVENT_ID });
    const [bug] = await bugsOf('open_app');
    expect(bug).toMatchObject({
      source: 'runtime',
      errorType: 'TypeError',
      filePath: '/app/src/routes/users.js',
      lineNumber: 42,
      level: 'CRITICAL',
      status: 'NEW',
      occurrenceCount: 1,
    });
    expect(bug!.context.event_id).toBe(EVENT_ID);
    expect(alertsQueued).toHaveBeenCalledTimes(1);
  });

  it('counts the same error again as an occurrence and queues no new alert', async () => {
    const n = ids.open_app!;
    const again = nodeUncaughtEvent({ event_id: 'c'.repeat(32) });
    (again.exception.values[0]!.stacktrace.frames[2] as { lineno: number }).lineno = 44;
    const res = await post(`/api/${n}/envelope/?sentry_key=public`, nodeEnvelope(again));
    expect(await res.json()).toEqual({ id: 'c'.repeat(32) });
    const rows = await bugsOf('open_app');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.occurrenceCount).toBe(2);
    expect(alertsQueued).toHaveBeenCalledTimes(1);
  });

  it('takes a @sentry/browser envelope sent as text/plain, without the trailing slash', async () => {
    const res = await post(
      `/api/${ids.open_app}/envelope?sentry_key=public&sentry_version=7`,
      // The browser transport's fetch sends the envelope as a string.
      new TextDecoder().decode(
        envelope({ event_id: browserEvent().event_id }, [
          { header: { type: 'event' }, payload: browserEvent() },
        ]),
      ),
      { 'Content-Type': 'text/plain;charset=UTF-8' },
    );
    expect(res.status).toBe(200);
    const rows = await bugsOf('open_app');
    expect(rows.map((b) => b.filePath)).toContain('/assets/index-3f2a9c1d.js');
  });

  it.each([
    ['gzip', (body: Uint8Array) => gzipSync(body)],
    ['br', (body: Uint8Array) => brotliCompressSync(body)],
  ])('takes a sentry-python envelope with X-Sentry-Auth and %s', async (encoding, compress) => {
    const event = pythonChainedEvent({ event_id: encoding === 'gzip' ? 'a'.repeat(32) : 'b'.repeat(32) });
    const res = await post(`/api/${ids.keyed_app}/envelope/`, compress(pythonEnvelope(event)), {
      'X-Sentry-Auth': PYTHON_AUTH,
      'Content-Type': 'application/x-sentry-envelope',
      'Content-Encoding': encoding,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: event.event_id });
    const [bug] = await bugsOf('keyed_app');
    expect(bug).toMatchObject({
      errorType: 'ValueError',
      filePath: 'apps/billing/services.py',
      lineNumber: 19,
    });
  });

  it('lets the envelope header event_id win over the payload', async () => {
    const body = envelope({ event_id: 'd'.repeat(32) }, [
      { header: { type: 'event' }, payload: jsCaptureMessageEvent() },
    ]);
    const res = await post(`/api/${ids.open_app}/envelope/?sentry_key=public`, body);
    expect(await res.json()).toEqual({ id: 'd'.repeat(32) });
  });

  it('takes the key from the envelope dsn header when the request has none (a tunnel)', async () => {
    const body = envelope(
      { event_id: 'e'.repeat(32), dsn: `https://${KEY}@logs.example.com/${ids.keyed_app}` },
      [{ header: { type: 'event' }, payload: nodeUncaughtEvent() }],
    );
    const res = await post(`/api/${ids.keyed_app}/envelope/`, body);
    expect(res.status).toBe(200);
  });

  it('takes one plain JSON event on the legacy store endpoint', async () => {
    const event = pythonChainedEvent({
      event_id: 'f'.repeat(32),
      exception: { values: [{ type: 'OSError', value: 'disk' }] },
    });
    const res = await post(`/api/${ids.keyed_app}/store/`, JSON.stringify(event), {
      'X-Sentry-Auth': PYTHON_AUTH,
      'Content-Type': 'application/json',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'f'.repeat(32) });
    expect((await bugsOf('keyed_app')).map((b) => b.errorType)).toContain('OSError');
  });

  it('accepts and drops every item that is not an event, answering {}', async () => {
    await project('quiet_app');
    const items = [
      'transaction',
      'session',
      'sessions',
      'client_report',
      'attachment',
      'check_in',
      'span',
      'log',
    ]
      .concat(['profile', 'replay_event', 'replay_recording', 'feedback', 'unknown_kind'])
      .map((type) => ({ header: { type }, payload: { type }, withLength: true }));
    const res = await post(`/api/${ids.quiet_app}/envelope/?sentry_key=public`, envelope({}, items, true));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(await bugsOf('quiet_app')).toHaveLength(0);
  });

  it('answers the preflight with Relay CORS headers', async () => {
    for (const path of [`/api/${ids.open_app}/envelope/`, `/api/${ids.open_app}/store/`]) {
      const res = await app.request(path, {
        method: 'OPTIONS',
        headers: { Origin: 'https://shop.example.com', 'Access-Control-Request-Method': 'POST' },
      });
      expect(res.status).toBe(200);
      expectRelayCors(res);
    }
  });
});

describe('refused requests', () => {
  it('401 for an unknown project number', async () => {
    const error = await expectError(
      await post('/api/999999/envelope/?sentry_key=public', nodeEnvelope()),
      401,
      'unauthorized',
    );
    expect(error.message).toMatch(/999999/);
  });

  it('401 without a key', async () => {
    await expectError(await post(`/api/${ids.open_app}/envelope/`, nodeEnvelope()), 401, 'unauthorized');
    await expectError(
      await post(`/api/${ids.open_app}/store/`, JSON.stringify(nodeUncaughtEvent())),
      401,
      'unauthorized',
    );
  });

  it('401 invalid_ingest_key for a key other than the project ingest key', async () => {
    await expectError(
      await post(`/api/${ids.keyed_app}/envelope/?sentry_key=public`, nodeEnvelope()),
      401,
      'invalid_ingest_key',
    );
    const body = envelope({ dsn: `https://wrong_key_123@logs.example.com/${ids.keyed_app}` }, []);
    await expectError(await post(`/api/${ids.keyed_app}/envelope/`, body), 401, 'invalid_ingest_key');
  });

  it('415 for an encoding other than gzip, deflate or br', async () => {
    await expectError(
      await post(`/api/${ids.open_app}/envelope/?sentry_key=public`, nodeEnvelope(), {
        'Content-Encoding': 'zstd',
      }),
      415,
      'unsupported_encoding',
    );
  });

  it('400 for a corrupt compressed body', async () => {
    await expectError(
      await post(`/api/${ids.open_app}/envelope/?sentry_key=public`, nodeEnvelope(), {
        'Content-Encoding': 'gzip',
      }),
      400,
      'invalid_encoding',
    );
  });

  it('400 for a malformed envelope or an event that is not JSON', async () => {
    const path = `/api/${ids.open_app}/envelope/?sentry_key=public`;
    await expectError(
      await post(path, '{"event_id":"x"}\n{"type":"event","length":99}\n{}'),
      400,
      'invalid_envelope',
    );
    await expectError(await post(path, '{}\n{"type":"event"}\n{not json'), 400, 'invalid_json');
  });

  it('413 for a body over 1 MiB, declared or streamed', async () => {
    const big = new Uint8Array(1024 * 1024 + 1).fill(0x20);
    const path = `/api/${ids.open_app}/envelope/?sentry_key=public`;
    await expectError(
      await post(path, big, { 'Content-Length': String(big.byteLength) }),
      413,
      'payload_too_large',
    );
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(256 * 1024).fill(0x20));
      },
    });
    const res = await app.request(path, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    await expectError(res, 413, 'payload_too_large');
  });

  it('413 for an event item over 1 MiB inside a smaller compressed body', async () => {
    const event = nodeUncaughtEvent({ extra: { blob: 'x'.repeat(1024 * 1024) } });
    const body = gzipSync(envelope({}, [{ header: { type: 'event' }, payload: event }]));
    expect(body.byteLength).toBeLessThan(1024 * 1024);
    const error = await expectError(
      await post(`/api/${ids.open_app}/envelope/?sentry_key=public`, body, { 'Content-Encoding': 'gzip' }),
      413,
      'payload_too_large',
    );
    expect(error.message).toMatch(/Event exceeds/);
  });

  it('429 over the project rate, with Retry-After and X-Sentry-Rate-Limits', async () => {
    const path = `/api/${ids.slow_app}/envelope/?sentry_key=public`;
    expect((await post(path, nodeEnvelope())).status).toBe(200);
    const res = await post(path, nodeEnvelope());
    await expectError(res, 429, 'rate_limited');
    const retryAfter = res.headers.get('Retry-After');
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(res.headers.get('X-Sentry-Rate-Limits')).toBe(`${retryAfter}::project`);
    // Items that are not events do not count.
    const sessions = envelope({}, [{ header: { type: 'session' }, payload: { sid: '1' } }]);
    expect((await post(path, sessions)).status).toBe(200);
  });

  it('leaves paths whose number is not an integer to other routes', async () => {
    expect((await post('/api/acme-api/envelope/?sentry_key=public', nodeEnvelope())).status).toBe(404);
  });
});

describe('the API document', () => {
  it('lists both Sentry endpoints', () => {
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } });
    expect(Object.keys(doc.paths ?? {})).toEqual(
      expect.arrayContaining(['/api/{sentryId}/envelope/', '/api/{sentryId}/store/']),
    );
  });
});
