/**
 * Events and envelopes shaped like what the SDKs send: @sentry/node 10 (envelope items
 * without `length`, key in the query string, no content type), @sentry/browser (same, as
 * `text/plain;charset=UTF-8`) and sentry-python 2 (items with byte `length`, X-Sentry-Auth,
 * gzip or brotli). Field sets follow getsentry/sentry-javascript packages/core and
 * sentry-python sentry_sdk/{client,envelope,utils}.py.
 */

import { eq } from 'drizzle-orm';
import type { Db } from '../../functions/lib/db';
import { projects } from '../../schema';

const encoder = new TextEncoder();

/**
 * Creates a project the way every insert site does, without naming sentry_id (the database
 * assigns it), and answers that number.
 */
export async function createProject(
  db: Db,
  id: string,
  values: Partial<typeof projects.$inferInsert> = {},
): Promise<number> {
  const now = new Date().toISOString();
  const [row] = await db
    .insert(projects)
    .values({ id, createdAt: now, updatedAt: now, ...values })
    .onConflictDoUpdate({ target: projects.id, set: { ...values, updatedAt: now } })
    .returning({ id: projects.id });
  const [created] = await db
    .select({ sentryId: projects.sentryId })
    .from(projects)
    .where(eq(projects.id, row!.id));
  return created!.sentryId!;
}

export const EVENT_ID = '9ec79c33ec9942ab8353589fcb2e04dc';
export const RELEASE_SHA = '3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39';

/** An uncaught TypeError in an Express handler, as @sentry/node 10 reports it. */
export function nodeUncaughtEvent(overrides: Record<string, unknown> = {}) {
  return {
    exception: {
      values: [
        {
          type: 'TypeError',
          value: "Cannot read properties of undefined (reading 'id')",
          stacktrace: {
            frames: [
              {
                filename: 'node:internal/process/task_queues',
                module: 'task_queues',
                function: 'process.processTicksAndRejections',
                lineno: 95,
                colno: 5,
                in_app: false,
              },
              {
                filename: '/app/node_modules/express/lib/router/layer.js',
                module: 'express.lib.router:layer',
                function: 'Layer.handle [as handle_request]',
                lineno: 95,
                colno: 5,
                in_app: false,
                pre_context: ['  try {'],
                context_line: '    fn(req, res, next);',
                post_context: ['  } catch (err) {'],
              },
              {
                filename: '/app/src/routes/users.js',
                module: 'routes:users',
                function: 'getUser',
                lineno: 42,
                colno: 23,
                in_app: true,
                pre_context: [
                  'export async function getUser(req, res) {',
                  '  const user = await db.find(req.params.id);',
                ],
                context_line: '  res.json({ id: user.profile.id });',
                post_context: ['}'],
              },
            ],
          },
          mechanism: { type: 'auto.node.onuncaughtexception', handled: false },
        },
      ],
    },
    level: 'fatal',
    event_id: EVENT_ID,
    platform: 'node',
    contexts: {
      trace: { trace_id: '4c79f60c11214eb38604f4ae0781bfb2', span_id: 'a0ca1bc5d6e7f890' },
      runtime: { name: 'node', version: 'v22.11.0' },
      app: { app_start_time: '2026-01-01T00:00:00.000Z', app_memory: 91234304 },
      os: { kernel_version: '6.8.0', name: 'Linux', version: '6.8.0' },
      device: { boot_time: '2026-01-01T00:00:00.000Z', arch: 'x64', memory_size: 8250839040 },
      culture: { locale: 'en-US', timezone: 'UTC' },
      cloud_resource: {},
    },
    server_name: 'api-7f9c5d',
    timestamp: 1767225600.123,
    environment: 'production',
    release: RELEASE_SHA,
    sdk: {
      integrations: ['InboundFilters', 'FunctionToString', 'LinkedErrors', 'Http', 'Express'],
      name: 'sentry.javascript.node',
      version: '10.5.0',
      packages: [{ name: 'npm:@sentry/node', version: '10.5.0' }],
    },
    breadcrumbs: [
      { timestamp: 1767225599.5, category: 'console', level: 'log', message: 'loading user 7' },
      {
        timestamp: 1767225599.9,
        type: 'http',
        category: 'http',
        data: { method: 'GET', url: 'http://db.internal/users/7', status_code: 404 },
      },
    ],
    request: {
      method: 'GET',
      url: 'https://api.example.com/users/7',
      headers: { cookie: 'session=abc', 'user-agent': 'curl/8.5.0' },
      query_string: 'debug=1',
      data: { note: 'never stored' },
    },
    user: { id: '7', ip_address: '10.0.0.12' },
    tags: { route: '/users/:id', api_key: 'sk_live_123' },
    extra: { password: 'hunter2', attempt: 2 },
    modules: { express: '4.21.2' },
    ...overrides,
  };
}

/** A click handler failing in a bundled page, as @sentry/browser reports it. */
export function browserEvent(overrides: Record<string, unknown> = {}) {
  return {
    exception: {
      values: [
        {
          type: 'Error',
          value: 'Payment form failed to submit',
          stacktrace: {
            frames: [
              {
                filename: 'https://shop.example.com/assets/vendor-9d8c7b6a.js',
                function: 'HTMLButtonElement.dispatch',
                lineno: 1,
                colno: 88213,
                in_app: true,
              },
              {
                filename: 'https://shop.example.com/assets/index-3f2a9c1d.js',
                function: 'onSubmit',
                lineno: 12,
                colno: 4501,
                in_app: true,
              },
            ],
          },
          mechanism: { type: 'auto.browser.browserapierrors.addEventListener', handled: false },
        },
      ],
    },
    level: 'error',
    event_id: 'b6f5a1e2c3d44e5f8a9b0c1d2e3f4a5b',
    platform: 'javascript',
    request: {
      url: 'https://shop.example.com/checkout?step=pay',
      headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64)' },
    },
    timestamp: 1767225600.5,
    environment: 'staging',
    release: 'shop-web@2.4.1',
    sdk: { name: 'sentry.javascript.browser', version: '10.5.0', integrations: [], packages: [] },
    breadcrumbs: [{ timestamp: 1767225599, category: 'ui.click', message: 'button#pay' }],
    ...overrides,
  };
}

/**
 * A Django view failing while handling another exception, as sentry-python 2 reports it: the
 * chain runs oldest → newest and the newest frame is in Django (not in the app).
 */
export function pythonChainedEvent(overrides: Record<string, unknown> = {}) {
  return {
    level: 'error',
    exception: {
      values: [
        {
          module: null,
          type: 'KeyError',
          value: "'plan'",
          mechanism: { type: 'chained', handled: true, exception_id: 1, parent_id: 0, source: '__context__' },
          stacktrace: {
            frames: [
              {
                filename: 'apps/billing/services.py',
                abs_path: '/srv/app/apps/billing/services.py',
                function: 'plan_for',
                module: 'apps.billing.services',
                lineno: 17,
                pre_context: ['def plan_for(customer):'],
                context_line: "    return PLANS[customer['plan']]",
                post_context: [],
                vars: { customer: "{'id': 5}" },
                in_app: true,
              },
            ],
          },
        },
        {
          module: null,
          type: 'ValueError',
          value: 'customer 5 has no billing plan',
          mechanism: { type: 'django', handled: false, exception_id: 0 },
          stacktrace: {
            frames: [
              {
                filename: 'django/core/handlers/base.py',
                abs_path: '/usr/local/lib/python3.12/site-packages/django/core/handlers/base.py',
                function: '_get_response',
                module: 'django.core.handlers.base',
                lineno: 197,
                in_app: false,
              },
              {
                filename: 'apps/billing/views.py',
                abs_path: '/srv/app/apps/billing/views.py',
                function: 'invoice',
                module: 'apps.billing.views',
                lineno: 31,
                in_app: true,
              },
              {
                filename: 'apps/billing/services.py',
                abs_path: '/srv/app/apps/billing/services.py',
                function: 'plan_for',
                module: 'apps.billing.services',
                lineno: 19,
                in_app: true,
                vars: { api_token: "'tok_live'", customer: "{'id': 5}" },
              },
              {
                filename: 'django/db/models/query.py',
                abs_path: '/usr/local/lib/python3.12/site-packages/django/db/models/query.py',
                function: 'get',
                module: 'django.db.models.query',
                lineno: 645,
                in_app: false,
              },
            ],
          },
        },
      ],
    },
    event_id: '1d5c84b5a7f8409fa1b2c3d4e5f60718',
    timestamp: '2026-01-01T00:00:00.123456Z',
    contexts: {
      trace: { trace_id: '8f1c0a6f2b0e4a1f9e8d7c6b5a493827', span_id: '9a8b7c6d5e4f3a2b', op: 'http.server' },
      runtime: {
        name: 'CPython',
        version: '3.12.7',
        build: '3.12.7 (main, Oct  1 2024, 02:05:46) [GCC 12.2.0]',
      },
    },
    transaction: '/billing/invoice/{id}',
    transaction_info: { source: 'route' },
    breadcrumbs: {
      values: [
        {
          ty: 'default',
          category: 'query',
          message: 'SELECT ... FROM billing_customer',
          timestamp: '2026-01-01T00:00:00.100000Z',
        },
      ],
    },
    extra: { 'sys.argv': ['manage.py', 'runserver'] },
    request: {
      url: 'http://billing.internal/billing/invoice/5',
      query_string: '',
      method: 'POST',
      env: { SERVER_NAME: 'billing', SERVER_PORT: '8000' },
      headers: { Authorization: '[Filtered]', Host: 'billing.internal' },
      data: { card: '[Filtered]' },
    },
    modules: { django: '5.1.4', 'sentry-sdk': '2.19.0' },
    release: 'billing@1.8.0',
    environment: 'production',
    server_name: 'billing-6d9f',
    sdk: {
      name: 'sentry.python.django',
      version: '2.19.0',
      packages: [{ name: 'pypi:sentry-sdk', version: '2.19.0' }],
      integrations: ['django', 'logging'],
    },
    platform: 'python',
    ...overrides,
  };
}

/** `sentry_sdk.capture_message(...)`: no exception at all. */
export function pythonMessageEvent(overrides: Record<string, unknown> = {}) {
  return {
    message: 'Payment provider answered slowly',
    level: 'warning',
    event_id: '2e6d95c6b8f9510ab2c3d4e5f6071829',
    timestamp: '2026-01-01T00:00:05.000000Z',
    platform: 'python',
    sdk: { name: 'sentry.python', version: '2.19.0' },
    environment: 'production',
    ...overrides,
  };
}

/** `Sentry.captureMessage(...)` with attachStacktrace: a synthetic exception carries the stack. */
export function jsCaptureMessageEvent(overrides: Record<string, unknown> = {}) {
  return {
    event_id: '3f7ea6d7c9fa621bc3d4e5f607182930',
    level: 'warning',
    message: 'Checkout timed out',
    exception: {
      values: [
        {
          value: 'Checkout timed out',
          stacktrace: {
            frames: [
              {
                filename: '/app/src/checkout.js',
                function: 'submitOrder',
                lineno: 80,
                colno: 11,
                in_app: true,
              },
              {
                filename: '/app/src/checkout.js',
                function: 'waitForProvider',
                lineno: 120,
                colno: 7,
                in_app: true,
              },
            ],
          },
          mechanism: { type: 'generic', handled: true, synthetic: true },
        },
      ],
    },
    platform: 'node',
    timestamp: 1767225610,
    sdk: { name: 'sentry.javascript.node', version: '10.5.0' },
    ...overrides,
  };
}

type Part = string | Uint8Array;

function concat(parts: Part[]): Uint8Array<ArrayBuffer> {
  const encoded = parts.map((p) => (typeof p === 'string' ? encoder.encode(p) : p));
  const out = new Uint8Array(encoded.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of encoded) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export interface ItemSpec {
  header: Record<string, unknown>;
  payload: string | Uint8Array | Record<string, unknown>;
  /** Write `length` (bytes) into the item header, as sentry-python does; the JS SDKs do not for JSON. */
  withLength?: boolean;
}

/** Serialises like the SDKs: header line, then per item a header line and the payload. */
export function envelope(
  header: Record<string, unknown>,
  items: ItemSpec[],
  trailingNewline = false,
): Uint8Array {
  const parts: Part[] = [JSON.stringify(header)];
  for (const item of items) {
    const payload =
      typeof item.payload === 'string' || item.payload instanceof Uint8Array
        ? item.payload
        : JSON.stringify(item.payload);
    const bytes = typeof payload === 'string' ? encoder.encode(payload) : payload;
    const itemHeader = item.withLength ? { ...item.header, length: bytes.byteLength } : item.header;
    parts.push(`\n${JSON.stringify(itemHeader)}\n`, bytes);
  }
  if (trailingNewline) parts.push('\n');
  return concat(parts);
}

/** @sentry/node 10: `{"type":"event"}` item without length; envelope header with sdk and trace. */
export function nodeEnvelope(event: Record<string, unknown> = nodeUncaughtEvent()) {
  return envelope(
    {
      event_id: event.event_id,
      sent_at: '2026-01-01T00:00:00.200Z',
      sdk: { name: 'sentry.javascript.node', version: '10.5.0' },
      trace: {
        environment: 'production',
        public_key: 'public',
        trace_id: '4c79f60c11214eb38604f4ae0781bfb2',
      },
    },
    [{ header: { type: 'event' }, payload: event }],
  );
}

/** sentry-python 2: every item with content_type and byte length, a newline after each payload. */
export function pythonEnvelope(
  event: Record<string, unknown> = pythonChainedEvent(),
  extra: ItemSpec[] = [],
) {
  return envelope(
    { event_id: event.event_id, sent_at: '2026-01-01T00:00:00.300000Z', trace: { trace_id: 'x' } },
    [
      { header: { type: 'event', content_type: 'application/json' }, payload: event, withLength: true },
      ...extra,
    ].map((item) => ({ withLength: true, ...item })),
    true,
  );
}
