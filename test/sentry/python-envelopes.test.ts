/**
 * Envelopes exactly as sentry-python 2 sends them (see fixtures/python-sdk.ts), posted with
 * fetch to a real Log Center Node server at the endpoint the project's DSN names: a Django
 * view failing inside pandas (a chained KeyError, library frames newest), its repeat after a
 * deploy, logging and capture_message events, and every item type that is not an event.
 */
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { bugDetail, bugOfType, bugsOf, endpointsOf, SdkContext, sentryProject } from './fixtures/log-center';
import {
  eventId,
  jsonItem,
  PYTHON_SDK_VERSION,
  type PythonItem,
  pythonEnvelope,
  pythonFrame,
  pythonHeaders,
  pythonTimestamp,
  sitePackages,
} from './fixtures/python-sdk';

const KEY = 'py_sdk_key_8d1f02ab';
const SECRET_VAR = 'tok_live_4c1d9e';
const SESSION_COOKIE = 'sessionid=9f8e7d6c';

let lc: LogCenterHandle;
let endpoint: string;
const project = uniqueProject('py');

beforeAll(async () => {
  lc = await startLogCenter();
  const { sentry_dsn } = await sentryProject(lc, project, { ingest_key: KEY });
  endpoint = endpointsOf(sentry_dsn).envelope;
});
afterAll(() => lc?.stop());

const encoders = {
  br: (body: Uint8Array) => new Uint8Array(brotliCompressSync(body)),
  gzip: (body: Uint8Array) => new Uint8Array(gzipSync(body, { level: 9 })),
};

/** `HttpTransport._send_request`: the envelope, compressed as configured, to the DSN's endpoint. */
function send(body: Uint8Array<ArrayBuffer>, encoding?: 'br' | 'gzip', to = endpoint, key = KEY) {
  return fetch(to, {
    method: 'POST',
    headers: pythonHeaders(key, encoding),
    body: encoding ? encoders[encoding](body) : body,
  });
}

/** The DSC sentry-python writes into the envelope header as `trace`. */
const trace = (traceId: string) => ({
  trace_id: traceId,
  environment: 'production',
  release: 'billing@1.8.0',
  public_key: KEY,
  sample_rate: '0.25',
  sampled: 'false',
});

/**
 * `df['plan']` failing in pandas inside a Django view: pandas re-raises the engine's KeyError
 * `from` it, so the chain holds two KeyErrors (oldest first) and the newest frames of the main
 * one are pandas' (in_app false) after the app's.
 */
function djangoKeyError(options: { id: string; release: string; shift?: number; when: Date }) {
  const shift = options.shift ?? 0;
  const mechanism = { type: 'django', handled: false };
  return {
    level: 'error',
    exception: {
      values: [
        {
          mechanism,
          module: null,
          type: 'KeyError',
          value: "'plan'",
          stacktrace: {
            frames: [
              pythonFrame({
                module: 'pandas.core.indexes.base',
                function: 'get_loc',
                lineno: 3805,
                absPath: sitePackages('pandas/core/indexes/base.py'),
                inApp: false,
                contextLine: '            return self._engine.get_loc(casted_key)',
              }),
              pythonFrame({
                module: 'pandas._libs.index',
                function: 'pandas._libs.index.IndexEngine.get_loc',
                lineno: 167,
                absPath: sitePackages('pandas/_libs/index.pyx'),
                inApp: false,
              }),
            ],
          },
        },
        {
          mechanism,
          module: null,
          type: 'KeyError',
          value: "'plan'",
          stacktrace: {
            frames: [
              pythonFrame({
                module: 'django.core.handlers.exception',
                function: 'inner',
                lineno: 55,
                absPath: sitePackages('django/core/handlers/exception.py'),
                inApp: false,
              }),
              pythonFrame({
                module: 'django.core.handlers.base',
                function: '_get_response',
                lineno: 197,
                absPath: sitePackages('django/core/handlers/base.py'),
                inApp: false,
              }),
              pythonFrame({
                module: 'apps.billing.views',
                function: 'invoice',
                lineno: 31 + shift,
                absPath: '/srv/app/apps/billing/views.py',
                inApp: true,
                contextLine: '    plan = plan_for(customer)',
              }),
              pythonFrame({
                module: 'apps.billing.services',
                function: 'plan_for',
                lineno: 19 + shift,
                absPath: '/srv/app/apps/billing/services.py',
                inApp: true,
                contextLine: "    return frame['plan'].iloc[0]",
                vars: { api_token: `'${SECRET_VAR}'`, customer: '<Customer: 5>' },
              }),
              pythonFrame({
                module: 'pandas.core.frame',
                function: '__getitem__',
                lineno: 4102,
                absPath: sitePackages('pandas/core/frame.py'),
                inApp: false,
              }),
              pythonFrame({
                module: 'pandas.core.indexes.base',
                function: 'get_loc',
                lineno: 3812,
                absPath: sitePackages('pandas/core/indexes/base.py'),
                inApp: false,
                contextLine: '            raise KeyError(key) from err',
              }),
            ],
          },
        },
      ],
    },
    event_id: options.id,
    timestamp: pythonTimestamp(options.when),
    contexts: {
      trace: { trace_id: '8f1c0a6f2b0e4a1f9e8d7c6b5a493827', span_id: '9a8b7c6d5e4f3a2b', op: 'http.server' },
      runtime: {
        name: 'CPython',
        version: '3.12.7',
        build: '3.12.7 (main, Oct  1 2024, 02:05:46) [GCC 12.2.0]',
      },
    },
    transaction: '/billing/invoice/<int:invoice_id>',
    transaction_info: { source: 'route' },
    breadcrumbs: {
      values: [
        {
          type: 'default',
          category: 'query',
          message:
            'SELECT "billing_customer"."id" FROM "billing_customer" WHERE "billing_customer"."id" = %s',
          timestamp: pythonTimestamp(new Date(options.when.getTime() - 40)),
          data: {},
        },
      ],
    },
    extra: { 'sys.argv': ['/srv/app/.venv/bin/gunicorn', 'billing.wsgi'] },
    request: {
      url: 'https://billing.example.com/billing/invoice/5',
      query_string: 'format=pdf',
      method: 'POST',
      env: { SERVER_NAME: 'billing', SERVER_PORT: '8000' },
      headers: { Cookie: SESSION_COOKIE, Host: 'billing.example.com', 'User-Agent': 'Mozilla/5.0' },
      data: { card_number: '[Filtered]' },
    },
    user: { id: '5', email: 'ana@example.com', ip_address: '10.0.0.12' },
    tags: { customer_tier: 'gold' },
    modules: { django: '5.1.4', pandas: '2.2.3', 'sentry-sdk': PYTHON_SDK_VERSION },
    release: options.release,
    environment: 'production',
    server_name: 'billing-6d9f',
    sdk: {
      name: 'sentry.python.django',
      version: PYTHON_SDK_VERSION,
      packages: [{ name: 'pypi:sentry-sdk', version: PYTHON_SDK_VERSION }],
      integrations: [
        'argv',
        'atexit',
        'dedupe',
        'django',
        'excepthook',
        'logging',
        'modules',
        'stdlib',
        'threading',
      ],
    },
    platform: 'python',
  };
}

/** An attachment (`scope.add_attachment(bytes=...)`): raw bytes with newlines and UTF-8 inside. */
const invoiceAttachment: PythonItem = {
  headers: { filename: 'invoice-5.txt', type: 'attachment', content_type: 'text/plain' },
  payload: new TextEncoder().encode('Rechnung Nr. 5\nKäufer: Zoë ☕\n\n{"type":"event"}\n'),
};

const clientReport = (when: Date) =>
  jsonItem('client_report', {
    timestamp: when.getTime() / 1000,
    discarded_events: [{ reason: 'sample_rate', category: 'transaction', quantity: 3 }],
  });

describe('sentry-python envelopes over HTTP', () => {
  it('stores a Django error sent brotli-compressed with X-Sentry-Auth, dropping its attachment and client report', async () => {
    const when = new Date('2026-05-04T12:00:00.123Z');
    const id = eventId();
    const body = pythonEnvelope({ event_id: id, sent_at: pythonTimestamp(when), trace: trace('8f1c0a6f') }, [
      jsonItem('event', djangoKeyError({ id, release: 'billing@1.8.0', when })),
      invoiceAttachment,
      clientReport(when),
    ]);
    const res = await send(body, 'br');
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(await res.json()).toEqual({ id });

    const bugs = await bugsOf(lc, project);
    expect(bugs).toHaveLength(1);
    const bug = await bugDetail(lc, bugs[0]!.id);
    expect(bug).toMatchObject({
      source: 'runtime',
      level: 'ERROR',
      environment: 'production',
      version: 'billing@1.8.0',
      commit_hash: null,
      status: 'NEW',
      occurrence_count: 1,
      error: {
        type: 'KeyError',
        message: "'plan'",
        // The newest in-app frame, not pandas' newer ones.
        file_path: 'apps/billing/services.py',
        line_number: 19,
      },
    });
    expect(bug.error.stack_trace).toEqual([
      "KeyError: 'plan'",
      '  at get_loc (pandas/core/indexes/base.py:3812)',
      '  at __getitem__ (pandas/core/frame.py:4102)',
      '  at plan_for (apps/billing/services.py:19)',
      '  at invoice (apps/billing/views.py:31)',
      '  at _get_response (django/core/handlers/base.py:197)',
      '  at inner (django/core/handlers/exception.py:55)',
      "Caused by: KeyError: 'plan'",
      '  at pandas._libs.index.IndexEngine.get_loc (pandas/_libs/index.pyx:167)',
      '  at get_loc (pandas/core/indexes/base.py:3805)',
    ]);

    expect(SdkContext.parse(bug.context)).toEqual({
      event_id: id,
      platform: 'python',
      sdk: { name: 'sentry.python.django', version: PYTHON_SDK_VERSION },
    });
    expect(bug.context).toMatchObject({
      server_name: 'billing-6d9f',
      tags: { customer_tier: 'gold' },
      user: { id: '5', email: 'ana@example.com' },
      request: { url: 'https://billing.example.com/billing/invoice/5', method: 'POST' },
      contexts: { runtime: { name: 'CPython', version: '3.12.7' } },
      extra: { 'sys.argv': ['/srv/app/.venv/bin/gunicorn', 'billing.wsgi'] },
      breadcrumbs: [expect.objectContaining({ category: 'query' })],
    });
    // The event's own time is the occurrence's; first_seen and last_seen are when it arrived.
    expect(bug.occurrences.map((o) => o.timestamp)).toEqual([when.toISOString()]);
    // Frame locals, request headers and cookies, the attachment: none of it is kept.
    const stored = JSON.stringify(bug);
    expect(stored).not.toContain(SECRET_VAR);
    expect(stored).not.toContain(SESSION_COOKIE);
    expect(stored).not.toContain('invoice-5.txt');
    expect(stored).not.toContain('Rechnung');
  });

  it('counts the same error after a deploy moved its lines (gzip) as an occurrence of the same bug', async () => {
    const when = new Date('2026-05-04T13:00:00.000Z');
    const id = eventId();
    const body = pythonEnvelope({ event_id: id, sent_at: pythonTimestamp(when), trace: trace('1e2d3c4b') }, [
      jsonItem('event', djangoKeyError({ id, release: 'billing@1.8.1', shift: 4, when })),
    ]);
    const res = await send(body, 'gzip');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id });

    const bugs = await bugsOf(lc, project);
    expect(bugs).toHaveLength(1);
    const bug = await bugDetail(lc, bugs[0]!.id);
    expect(bug.occurrence_count).toBe(2);
    expect(bug.occurrences.map((o) => [o.timestamp, o.version]).sort()).toEqual([
      ['2026-05-04T12:00:00.123Z', 'billing@1.8.0'],
      [when.toISOString(), 'billing@1.8.1'],
    ]);
  });

  it('stores a logging record and capture_message as Message bugs (no compression)', async () => {
    const when = new Date('2026-05-04T14:00:00.000Z');
    const logged = eventId();
    const logRecord = {
      level: 'error',
      logger: 'apps.billing.tasks',
      logentry: {
        message: 'Invoice %s could not be rendered',
        formatted: 'Invoice 5 could not be rendered',
        params: [5],
      },
      extra: { invoice_id: 5 },
      event_id: logged,
      timestamp: pythonTimestamp(when),
      platform: 'python',
      environment: 'production',
      release: 'billing@1.8.1',
      sdk: { name: 'sentry.python', version: PYTHON_SDK_VERSION },
    };
    const captured = eventId();
    const message = {
      message: 'Payment provider answered slowly',
      level: 'warning',
      event_id: captured,
      timestamp: pythonTimestamp(when),
      platform: 'python',
      environment: 'staging',
      sdk: { name: 'sentry.python', version: PYTHON_SDK_VERSION },
    };
    for (const [id, event] of [
      [logged, logRecord],
      [captured, message],
    ] as const) {
      const res = await send(
        pythonEnvelope({ event_id: id, sent_at: pythonTimestamp(when) }, [jsonItem('event', event)]),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id });
    }
    const messages = (await bugsOf(lc, project)).filter((b) => b.error.type === 'Message');
    expect(
      messages.map((b) => [b.error.message, b.level, b.environment, b.error.file_path, b.error.stack_trace]),
    ).toEqual(
      expect.arrayContaining([
        [
          'Invoice 5 could not be rendered',
          'ERROR',
          'production',
          null,
          ['Message: Invoice 5 could not be rendered'],
        ],
        [
          'Payment provider answered slowly',
          'WARNING',
          'staging',
          null,
          ['Message: Payment provider answered slowly'],
        ],
      ]),
    );
    expect(messages).toHaveLength(2);
  });
});

describe('items that are not events, as sentry-python and the browser SDKs send them', () => {
  const quiet = uniqueProject('py_quiet');
  let quietEndpoint: string;
  const when = new Date('2026-05-04T15:00:00.000Z');
  const sentAt = pythonTimestamp(when);
  const traceHeader = { event_id: eventId(), sent_at: sentAt, trace: trace('5a6b7c8d') };

  beforeAll(async () => {
    const { sentry_dsn } = await sentryProject(lc, quiet, { ingest_key: KEY });
    quietEndpoint = endpointsOf(sentry_dsn).envelope;
  });

  /** A replay recording: a JSON header line, then compressed bytes that contain newlines. */
  const recording = () => {
    const compressed = gzipSync(JSON.stringify([{ type: 4, data: { href: 'https://shop.example.com/' } }]));
    const head = new TextEncoder().encode('{"segment_id":0}\n');
    const out = new Uint8Array(head.byteLength + compressed.byteLength);
    out.set(head);
    out.set(compressed, head.byteLength);
    return out;
  };

  const envelopes: [string, Record<string, unknown>, PythonItem[]][] = [
    [
      'transaction with a profile',
      traceHeader,
      [
        jsonItem('transaction', {
          type: 'transaction',
          transaction: '/billing/invoice/<int:invoice_id>',
          start_timestamp: sentAt,
          timestamp: sentAt,
          contexts: { trace: { trace_id: '5a6b7c8d', span_id: '1a2b3c4d', op: 'http.server', status: 'ok' } },
          spans: [{ op: 'db', description: 'SELECT 1', span_id: '2b3c4d5e', trace_id: '5a6b7c8d' }],
          platform: 'python',
        }),
        jsonItem('profile', {
          version: '1',
          platform: 'python',
          profile: { samples: [], stacks: [], frames: [] },
        }),
      ],
    ],
    [
      'session',
      {},
      [
        jsonItem('session', {
          sid: 'c0ffee00c0ffee00c0ffee00c0ffee00',
          init: true,
          started: sentAt,
          timestamp: sentAt,
          status: 'exited',
          errors: 1,
          duration: 2.5,
          attrs: { release: 'billing@1.8.1', environment: 'production' },
        }),
      ],
    ],
    [
      'sessions',
      {},
      [
        jsonItem('sessions', {
          attrs: { release: 'billing@1.8.1', environment: 'production' },
          aggregates: [{ started: '2026-05-04T15:00:00Z', exited: 41, errored: 2 }],
        }),
      ],
    ],
    ['client_report', {}, [clientReport(when)]],
    ['attachment on its own', traceHeader, [invoiceAttachment]],
    [
      'check_in',
      traceHeader,
      [
        jsonItem('check_in', {
          type: 'check_in',
          check_in_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
          monitor_slug: 'nightly-invoices',
          status: 'error',
          duration: 12.5,
          environment: 'production',
        }),
      ],
    ],
    [
      'span',
      { sent_at: sentAt },
      [
        {
          headers: { type: 'span', content_type: 'application/vnd.sentry.items.span.v2+json', item_count: 1 },
          payload: {
            items: [{ trace_id: '5a6b7c8d', span_id: '3c4d5e6f', name: 'render invoice', status: 'ok' }],
          },
        },
      ],
    ],
    [
      'log',
      { sent_at: sentAt },
      [
        {
          headers: { type: 'log', content_type: 'application/vnd.sentry.items.log+json', item_count: 1 },
          payload: {
            items: [
              {
                timestamp: when.getTime() / 1000,
                trace_id: '5a6b7c8d',
                level: 'error',
                body: 'Invoice 5 could not be rendered',
                attributes: { 'sentry.sdk.name': { value: 'sentry.python', type: 'string' } },
              },
            ],
          },
        },
      ],
    ],
    [
      'replay_event and replay_recording',
      traceHeader,
      [
        jsonItem('replay_event', { type: 'replay_event', replay_id: 'd'.repeat(32), segment_id: 0 }),
        { headers: { type: 'replay_recording' }, payload: recording() },
      ],
    ],
    [
      'feedback',
      traceHeader,
      [
        jsonItem('feedback', {
          type: 'feedback',
          contexts: { feedback: { message: 'The invoice is empty', contact_email: 'ana@example.com' } },
        }),
      ],
    ],
    [
      'an item type this server does not know',
      {},
      [
        {
          headers: { type: 'statsd', content_type: 'text/plain' },
          payload: new TextEncoder().encode('a:1|c'),
        },
      ],
    ],
  ];

  it.each(envelopes)('accepts and drops %s', async (_name, headers, items) => {
    const body = pythonEnvelope(headers, items);
    for (const encoding of ['br', 'gzip'] as const) {
      const res = await send(body, encoding, quietEndpoint);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
    }
    expect(await bugsOf(lc, quiet)).toEqual([]);
  });

  it('stores only the event of an envelope that carries every other kind too', async () => {
    const id = eventId();
    const body = pythonEnvelope({ event_id: id, sent_at: sentAt, trace: trace('6b7c8d9e') }, [
      ...envelopes.flatMap(([, , items]) => items),
      jsonItem('event', djangoKeyError({ id, release: 'billing@2.0.0', when })),
    ]);
    const res = await send(body, 'br', quietEndpoint);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id });
    const bug = await bugOfType(lc, quiet, 'KeyError');
    expect(bug).toMatchObject({ occurrence_count: 1, version: 'billing@2.0.0' });
    expect(await bugsOf(lc, quiet)).toHaveLength(1);
  });
});
