/**
 * Refused Sentry requests against a real Log Center Node server, over a socket: bodies sent
 * with a Content-Length and chunked, as the SDKs do (sentry-python declares a length,
 * @sentry/node streams). Every refusal must carry Relay's CORS headers (a browser SDK cannot
 * read it otherwise) and store nothing. route.test.ts covers the same codes in process; here
 * the whole app (its middleware, the Node adapter, the body stream) answers.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorSchema } from '../../functions/routes/schemas';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { envelope, nodeEnvelope, nodeUncaughtEvent, pythonChainedEvent, pythonEnvelope } from './fixtures';
import { bugsOf, sentryProject } from './fixtures/log-center';

const ORIGIN = 'https://shop.example.com';
const MiB = 1024 * 1024;

let lc: LogCenterHandle;

beforeAll(async () => {
  lc = await startLogCenter();
});
afterAll(() => lc?.stop());

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * A POST as an SDK's HTTP client makes it: with `Content-Length`, or chunked in 64 KiB
 * writes. The server may answer (413) and close before the body is through; the answer
 * still counts, the write error after it does not.
 */
function post(
  path: string,
  body: Uint8Array | string,
  options: { headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<Answer> {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string> = { Origin: ORIGIN, ...options.headers };
    if (!options.chunked) headers['Content-Length'] = String(bytes.byteLength);
    const req = request(new URL(path, lc.url), { method: 'POST', headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', (error) => {
      // EPIPE/ECONNRESET once the server has answered and closed: the answer is what counts.
      setTimeout(() => {
        if (!answered) reject(error);
      }, 200);
    });
    if (!options.chunked) {
      req.end(bytes);
      return;
    }
    for (let at = 0; at < bytes.byteLength; at += 64 * 1024) req.write(bytes.subarray(at, at + 64 * 1024));
    req.end();
  });
}

function expectRelayCors(answer: Answer) {
  expect(answer.headers['access-control-allow-origin']).toBe('*');
  expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
  expect(answer.headers['access-control-expose-headers']).toBe(
    'x-sentry-error, x-sentry-rate-limits, retry-after',
  );
}

function expectRefusal(answer: Answer, status: number, code: string) {
  expect(answer.status, answer.text).toBe(status);
  expectRelayCors(answer);
  const { error } = ErrorSchema.parse(JSON.parse(answer.text));
  expect(error.code).toBe(code);
  expect(answer.headers['x-sentry-error']).toBeTruthy();
  expect(answer.headers['x-request-id']).toBe(error.request_id);
  return error;
}

const eventItem = (event: Record<string, unknown>) => ({ header: { type: 'event' }, payload: event });
/** A 2 MB event: every other field fine, its extra data too big for one event. */
const bigEvent = () =>
  nodeUncaughtEvent({ event_id: randomUUID().replaceAll('-', ''), extra: { dump: 'x'.repeat(2 * MiB) } });

/**
 * Bodies each refused whole. Most start with a valid event, so a server that stored items
 * as it went would leave a bug behind.
 */
const badBodies: {
  name: string;
  body: () => Uint8Array | string;
  headers?: Record<string, string>;
  status: number;
  code: string;
  store?: boolean;
}[] = [
  {
    name: 'a sentry-python envelope cut short in its second item',
    body: () => {
      const full = pythonEnvelope(pythonChainedEvent(), [
        { header: { type: 'attachment', filename: 'log.txt' }, payload: 'a'.repeat(100), withLength: true },
      ]);
      return full.subarray(0, full.byteLength - 40);
    },
    status: 400,
    code: 'invalid_envelope',
  },
  {
    name: 'an envelope header that is not JSON',
    body: () => `{"event_id":"${'a'.repeat(32)}"\n{"type":"event"}\n${JSON.stringify(nodeUncaughtEvent())}`,
    status: 400,
    code: 'invalid_envelope',
  },
  {
    name: 'an event item that is not JSON after a valid one',
    body: () =>
      envelope({}, [eventItem(nodeUncaughtEvent()), { header: { type: 'event' }, payload: '{"exception":' }]),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'an event item that is JSON but not an object',
    body: () => envelope({}, [{ header: { type: 'event' }, payload: '["TypeError"]' }]),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'a 2 MB event after a valid one',
    body: () => envelope({}, [eventItem(nodeUncaughtEvent()), eventItem(bigEvent())]),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'a 2 MB event gzipped to a few KiB',
    body: () => gzipSync(envelope({}, [eventItem(nodeUncaughtEvent()), eventItem(bigEvent())])),
    headers: { 'Content-Encoding': 'gzip' },
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'a gzip bomb: a valid event, then 8 MiB of newlines',
    body: () => {
      const head = nodeEnvelope();
      const padded = new Uint8Array(head.byteLength + 8 * MiB).fill(0x0a);
      padded.set(head);
      return gzipSync(padded);
    },
    headers: { 'Content-Encoding': 'gzip' },
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'a body that is not gzip though it says so',
    body: () => nodeEnvelope(),
    headers: { 'Content-Encoding': 'gzip' },
    status: 400,
    code: 'invalid_encoding',
  },
  {
    name: 'a gzip stream cut short',
    body: () => {
      const full = gzipSync(nodeEnvelope());
      return full.subarray(0, full.byteLength - 12);
    },
    headers: { 'Content-Encoding': 'gzip' },
    status: 400,
    code: 'invalid_encoding',
  },
  {
    name: 'gzip bytes labelled br',
    body: () => gzipSync(nodeEnvelope()),
    headers: { 'Content-Encoding': 'br' },
    status: 400,
    code: 'invalid_encoding',
  },
  {
    name: 'Content-Encoding zstd',
    body: () => nodeEnvelope(),
    headers: { 'Content-Encoding': 'zstd' },
    status: 415,
    code: 'unsupported_encoding',
  },
  {
    name: 'a store request whose body is not JSON',
    body: () => '{"exception":{"values":[',
    status: 400,
    code: 'invalid_json',
    store: true,
  },
  {
    name: 'a 2 MB store request',
    body: () => JSON.stringify(bigEvent()),
    status: 413,
    code: 'payload_too_large',
    store: true,
  },
];

describe('bodies refused with Relay CORS and nothing stored', () => {
  const project = uniqueProject('sentry_bad');
  let sentryId: number;

  beforeAll(async () => {
    sentryId = (await sentryProject(lc, project)).sentry_id;
  });

  const cases = badBodies.flatMap((c) => [
    { ...c, chunked: false, how: 'Content-Length' },
    { ...c, chunked: true, how: 'chunked' },
  ]);

  it.each(cases)('$status for $name ($how)', async ({ body, headers, status, code, store, chunked }) => {
    const path = `/api/${sentryId}/${store ? 'store' : 'envelope'}/?sentry_key=public&sentry_version=7`;
    expectRefusal(await post(path, body(), { headers, chunked }), status, code);
    expect(await bugsOf(lc, project)).toEqual([]);
  });

  it('413 for a body over 1 MiB from its declared length, before reading it', async () => {
    const answer = await post(
      `/api/${sentryId}/envelope/?sentry_key=public`,
      new Uint8Array(2 * MiB).fill(0x20),
    );
    const error = expectRefusal(answer, 413, 'payload_too_large');
    expect(error.message).toMatch(/^Body exceeds/);
    // The rest of the body may be unread: the connection is not reused.
    expect(answer.headers.connection).toBe('close');
  });

  it('still takes a good envelope on the same project afterwards', async () => {
    const answer = await post(`/api/${sentryId}/envelope/?sentry_key=public`, nodeEnvelope(), {
      chunked: true,
    });
    expect(answer.status).toBe(200);
    expect(await bugsOf(lc, project)).toHaveLength(1);
  });
});

describe('keys', () => {
  const KEY = 'ingest_key_7c41d09b';
  const project = uniqueProject('sentry_keyed');
  let sentryId: number;
  let dsnHost: string;

  beforeAll(async () => {
    const created = await sentryProject(lc, project, { ingest_key: KEY });
    sentryId = created.sentry_id;
    dsnHost = new URL(created.sentry_dsn).host;
  });

  const auth = (key: string) => ({ 'X-Sentry-Auth': `Sentry sentry_key=${key}, sentry_version=7` });
  const withDsn = (key: string) =>
    envelope({ dsn: `http://${key}@${dsnHost}/${sentryId}` }, [eventItem(nodeUncaughtEvent())]);

  const carriers: [string, () => [string, Uint8Array, Record<string, string>], number, string?][] = [
    ['the right key in the query', () => [`?sentry_key=${KEY}`, nodeEnvelope(), {}], 200],
    ['the right key in X-Sentry-Auth', () => ['', nodeEnvelope(), auth(KEY)], 200],
    ['the right key in the envelope dsn', () => ['', withDsn(KEY), {}], 200],
    [
      'a wrong key in the query',
      () => ['?sentry_key=wrong_key_0001', nodeEnvelope(), {}],
      401,
      'invalid_ingest_key',
    ],
    [
      '"public" for a keyed project',
      () => ['?sentry_key=public', nodeEnvelope(), {}],
      401,
      'invalid_ingest_key',
    ],
    [
      'a wrong key in X-Sentry-Auth',
      () => ['', nodeEnvelope(), auth('wrong_key_0001')],
      401,
      'invalid_ingest_key',
    ],
    ['a wrong key in the envelope dsn', () => ['', withDsn('wrong_key_0001'), {}], 401, 'invalid_ingest_key'],
    // The query comes first; a right key elsewhere does not rescue a wrong one there.
    [
      'a wrong query key beside a right X-Sentry-Auth',
      () => ['?sentry_key=wrong_key_0001', nodeEnvelope(), auth(KEY)],
      401,
      'invalid_ingest_key',
    ],
    ['no key at all', () => ['', nodeEnvelope(), {}], 401, 'unauthorized'],
  ];

  it.each(carriers)('%s → %i', async (_name, make, status, code) => {
    const [query, body, headers] = make();
    const before = (await bugsOf(lc, project))[0]?.occurrence_count ?? 0;
    const answer = await post(`/api/${sentryId}/envelope/${query}`, body, { headers });
    if (status === 200) {
      expect(answer.status, answer.text).toBe(200);
      expectRelayCors(answer);
    } else {
      expectRefusal(answer, status, code!);
    }
    const after = (await bugsOf(lc, project))[0]?.occurrence_count ?? 0;
    expect(after - before).toBe(status === 200 ? 1 : 0);
  });

  it('401 for a project number no project has, on both endpoints, with or without a key', async () => {
    for (const path of ['/api/987654321/envelope/', '/api/987654321/store/', '/api/0/envelope/']) {
      expectRefusal(await post(`${path}?sentry_key=public`, nodeEnvelope()), 401, 'unauthorized');
      expectRefusal(await post(path, nodeEnvelope(), { chunked: true }), 401, 'unauthorized');
    }
  });

  it('follows a rotated key at once: the old DSN is refused, the new one taken', async () => {
    const rotated = uniqueProject('sentry_rotated');
    const first = await sentryProject(lc, rotated, { ingest_key: 'first_key_0001' });
    const path = `/api/${first.sentry_id}/envelope/`;
    expect((await post(`${path}?sentry_key=first_key_0001`, nodeEnvelope())).status).toBe(200);

    const second = await sentryProject(lc, rotated, { ingest_key: 'second_key_0002' });
    expect(second.sentry_id).toBe(first.sentry_id);
    expect(new URL(second.sentry_dsn).username).toBe('second_key_0002');
    expectRefusal(await post(`${path}?sentry_key=first_key_0001`, nodeEnvelope()), 401, 'invalid_ingest_key');
    expect((await post(`${path}?sentry_key=second_key_0002`, nodeEnvelope())).status).toBe(200);
    expect((await bugsOf(lc, rotated))[0]!.occurrence_count).toBe(2);
  });
});

describe('rate limit', () => {
  it('429 with Retry-After and X-Sentry-Rate-Limits once a limit set over the API is reached', async () => {
    const project = uniqueProject('sentry_slow');
    const { sentry_id } = await sentryProject(lc, project);
    const path = `/api/${sentry_id}/envelope/?sentry_key=public`;
    // Unlimited at first (the settings are now cached), then limited through the API.
    expect((await post(path, nodeEnvelope())).status).toBe(200);
    await sentryProject(lc, project, { rate_limit_per_minute: 1 });
    expect((await post(path, nodeEnvelope())).status).toBe(200);

    const answer = await post(path, nodeEnvelope(), { chunked: true });
    expectRefusal(answer, 429, 'rate_limited');
    const retryAfter = Number(answer.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(answer.headers['x-sentry-rate-limits']).toBe(`${retryAfter}::project`);

    // Only events count: a session update still goes through.
    const session = envelope({ sent_at: new Date().toISOString() }, [
      { header: { type: 'session' }, payload: { sid: 'a'.repeat(32), status: 'ok', errors: 0 } },
    ]);
    const sessionAnswer = await post(path, session);
    expect(sessionAnswer.status).toBe(200);
    expect(JSON.parse(sessionAnswer.text)).toEqual({});

    const bugs = await bugsOf(lc, project);
    expect(bugs.map((b) => b.occurrence_count)).toEqual([2]);
  });
});

describe('preflight', () => {
  it('answers OPTIONS on both endpoints with Relay CORS headers for any origin', async () => {
    const { sentry_id } = await sentryProject(lc, uniqueProject('sentry_preflight'));
    for (const path of [`/api/${sentry_id}/envelope/`, `/api/${sentry_id}/store/`]) {
      const res = await fetch(`${lc.url}${path}?sentry_key=public`, {
        method: 'OPTIONS',
        headers: {
          Origin: ORIGIN,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,content-encoding,x-sentry-auth',
        },
      });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull();
      expect(res.headers.get('Access-Control-Allow-Methods')).toContain('POST');
      const allowed = (res.headers.get('Access-Control-Allow-Headers') ?? '').split(/,\s*/);
      expect(allowed).toEqual(expect.arrayContaining(['content-type', 'content-encoding', 'x-sentry-auth']));
      expect(res.headers.get('Access-Control-Expose-Headers')).toBe(
        'x-sentry-error, x-sentry-rate-limits, retry-after',
      );
      expect(res.headers.get('Access-Control-Max-Age')).toBe('3600');
    }
  });
});
