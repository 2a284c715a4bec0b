import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { normaliseSentryEvent } from '../functions/services/sentry/event';

/**
 * A gzip envelope as sentry-python sends it from a Django view: one error event with a
 * chained exception, 14 frames with source context, breadcrumbs, contexts, request and the
 * installed modules — about 13 KiB of JSON, 3 KiB on the wire. `i` picks one of the rotating
 * errors (its type and crash function), so `i % 1000` gives 1000 bugs.
 */
export function sentryPythonEnvelope(i: number, dsn: string): Buffer {
  const event = sentryPythonEvent(i);
  const eventId = event.event_id;
  const payload = Buffer.from(JSON.stringify(event));
  const envelope = Buffer.concat([
    Buffer.from(
      `${JSON.stringify({ event_id: eventId, sent_at: new Date().toISOString(), dsn, sdk: event.sdk })}\n`,
    ),
    Buffer.from(
      `${JSON.stringify({ type: 'event', content_type: 'application/json', length: payload.length })}\n`,
    ),
    payload,
    Buffer.from('\n'),
  ]);
  return gzipSync(envelope);
}

/** The event itself: what sentry-python puts in the envelope's one item. */
export function sentryPythonEvent(i: number) {
  const eventId = randomUUID().replace(/-/g, '');
  const frame = (n: number, inApp: boolean) => ({
    filename: inApp ? `apps/orders/views_${n}.py` : `django/core/handlers/base_${n}.py`,
    abs_path: inApp
      ? `/srv/app/apps/orders/views_${n}.py`
      : `/usr/lib/python3.12/site-packages/django/core/handlers/base_${n}.py`,
    function: inApp ? `handle_order_${i % 1000}_${n}` : `_get_response_${n}`,
    module: inApp ? 'apps.orders.views' : 'django.core.handlers.base',
    lineno: 40 + n,
    pre_context: [
      '    try:',
      '        order = Order.objects.get(pk=order_id)',
      '        total = order.total()',
    ],
    context_line: `        result = compute_${n}(order, request.user)`,
    post_context: ['    except Order.DoesNotExist:', '        raise Http404()', ''],
    in_app: inApp,
  });
  const frames = [
    ...Array.from({ length: 8 }, (_, n) => frame(n, false)),
    ...Array.from({ length: 6 }, (_, n) => frame(n, true)),
  ];
  const event = {
    event_id: eventId,
    level: 'error',
    platform: 'python',
    timestamp: new Date().toISOString(),
    server_name: 'web-7d9f8c6b5-x2kqp',
    release: 'orders@4f2c9e1a7b3d',
    environment: 'production',
    exception: {
      values: [
        {
          type: 'KeyError',
          value: "'customer_id'",
          module: null,
          mechanism: { type: 'django', handled: false },
          stacktrace: { frames: frames.slice(8) },
        },
        {
          type: `OrderError${i % 1000}`,
          value: `order ${i} could not be priced: missing customer`,
          module: 'apps.orders.errors',
          mechanism: { type: 'django', handled: false, exception_id: 1, parent_id: 0 },
          stacktrace: { frames },
        },
      ],
    },
    breadcrumbs: {
      values: Array.from({ length: 12 }, (_, n) => ({
        timestamp: new Date(Date.now() - (12 - n) * 1000).toISOString(),
        type: n % 3 ? 'default' : 'http',
        category: n % 3 ? 'query' : 'httplib',
        level: 'info',
        message:
          n % 3
            ? `SELECT "orders_order"."id", "orders_order"."total" FROM "orders_order" WHERE "orders_order"."id" = ${i}`
            : undefined,
        data:
          n % 3 ? {} : { url: 'https://payments.internal/api/v2/quote', method: 'POST', status_code: 200 },
      })),
    },
    contexts: {
      os: { name: 'Linux', version: '6.1.0' },
      runtime: {
        name: 'CPython',
        version: '3.12.4',
        build: '3.12.4 (main, Jun  7 2024, 00:00:00) [GCC 12.2.0]',
      },
      trace: {
        trace_id: randomUUID().replace(/-/g, ''),
        span_id: eventId.slice(0, 16),
        parent_span_id: null,
        op: 'http.server',
        status: 'internal_error',
      },
    },
    request: {
      url: `https://shop.example.com/api/orders/${i}/price`,
      method: 'POST',
      query_string: 'currency=EUR',
      headers: {
        'User-Agent': 'Mozilla/5.0',
        Accept: 'application/json',
        'Content-Type': 'application/json',
        Host: 'shop.example.com',
      },
      env: { SERVER_NAME: 'web-7d9f8c6b5-x2kqp', SERVER_PORT: '8000' },
    },
    user: { id: String(10_000 + (i % 500)), ip_address: '203.0.113.7' },
    tags: { 'http.method': 'POST', url: `https://shop.example.com/api/orders/${i}/price` },
    extra: { 'sys.argv': ['/srv/app/manage.py', 'runserver'] },
    modules: Object.fromEntries(
      [
        'django',
        'psycopg',
        'redis',
        'celery',
        'requests',
        'urllib3',
        'certifi',
        'idna',
        'charset-normalizer',
        'sentry-sdk',
        'gunicorn',
        'pydantic',
        'sqlparse',
        'asgiref',
        'pytz',
        'kombu',
        'billiard',
        'vine',
        'click',
        'amqp',
      ].map((name, n) => [name, `${n % 5}.${n}.${n * 3}`]),
    ),
    sdk: {
      name: 'sentry.python.django',
      version: '2.19.2',
      packages: [{ name: 'pypi:sentry-sdk', version: '2.19.2' }],
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
  };
  return event;
}

/**
 * The same error as a report to the native API, with the content Log Center keeps of the
 * event (its stack lines and context): the envelope scenario's like-for-like baseline, so the
 * ratio measures the protocol (gzip, envelope, mapping) rather than a 20 times bigger body.
 */
export function equivalentReport(i: number) {
  const { report } = normaliseSentryEvent(sentryPythonEvent(i), {
    projectId: 'bench_project',
    receivedAt: new Date().toISOString(),
  });
  return {
    project_id: 'bench_project',
    environment: report.environment,
    level: report.level,
    version: report.version,
    error: {
      type: report.errorType,
      message: report.message,
      file_path: report.filePath,
      line_number: report.lineNumber,
      stack_trace: JSON.parse(report.stackJson) as string[],
    },
    context: JSON.parse(report.contextJson) as Record<string, unknown>,
  };
}

/** Words for the local variables of the large event: repetitive like real reprs, not a run of one byte. */
const WORDS = ['order', 'customer', 'total', 'None', 'True', 'price', 'currency', 'EUR', 'line', 'item'];

/** A `repr` of about `chars` characters, varied by `seed`. */
function reprOf(seed: number, chars: number): string {
  let out = '';
  let n = seed;
  while (out.length < chars) {
    n = (n * 1103515245 + 12345) % 2147483648;
    out += `${WORDS[n % WORDS.length]}=${n % 100_000} `;
  }
  return out.slice(0, chars);
}

/**
 * A gzip envelope holding one ~1 MiB event (`eventBytes` of JSON, just within the 1 MiB event
 * limit), as sentry-python sends with local variables on: 40 frames each carrying ~20 KiB of
 * `vars`, 100 breadcrumbs and a large `extra`. Log Center keeps its stack lines and 32 KiB of
 * context; the rest is read, parsed and dropped. `i % 100` picks one of 100 errors.
 */
export function sentryLargeEnvelope(i: number, dsn: string, eventBytes = 1_000_000): Buffer {
  const event = sentryPythonEvent(i) as ReturnType<typeof sentryPythonEvent> & Record<string, unknown>;
  const frames = Array.from({ length: 40 }, (_, n) => ({
    filename: `apps/orders/step_${n}.py`,
    function: `step_${i % 100}_${n}`,
    module: 'apps.orders.steps',
    lineno: 10 + n,
    in_app: n >= 30,
    vars: { order: reprOf(i * 40 + n, 12_000), request: reprOf(n, 8_000) },
  }));
  event.exception.values[1]!.stacktrace = { frames: frames as never };
  event.breadcrumbs.values = Array.from({ length: 100 }, (_, n) => ({
    timestamp: new Date(Date.now() - (100 - n) * 1000).toISOString(),
    type: 'default',
    category: 'query',
    level: 'info',
    message: reprOf(i + n, 1_200),
    data: {},
  }));
  const base = Buffer.byteLength(JSON.stringify({ ...event, extra: { blob: '' } }));
  event.extra = { blob: reprOf(i, Math.max(0, eventBytes - base)) } as never;
  const payload = Buffer.from(JSON.stringify(event));
  const envelope = Buffer.concat([
    Buffer.from(`${JSON.stringify({ event_id: event.event_id, dsn, sdk: event.sdk })}\n`),
    Buffer.from(
      `${JSON.stringify({ type: 'event', content_type: 'application/json', length: payload.length })}\n`,
    ),
    payload,
    Buffer.from('\n'),
  ]);
  return gzipSync(envelope);
}
