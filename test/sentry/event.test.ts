import { describe, expect, it } from 'vitest';
import { AppError } from '../../functions/lib/errors';
import { md5 } from '../../functions/services/report';
import {
  commitFromRelease,
  eventTime,
  normaliseSentryEvent,
  parseEventJson,
  sentryLevel,
} from '../../functions/services/sentry/event';
import {
  browserEvent,
  EVENT_ID,
  jsCaptureMessageEvent,
  nodeUncaughtEvent,
  pythonChainedEvent,
  pythonMessageEvent,
  RELEASE_SHA,
} from './fixtures';

const RECEIVED = '2026-02-01T10:00:00.000Z';
const PROJECT = 'shop_api';

/** The event as a report, with its stored stack lines and context parsed back for reading. */
const normalise = (event: Record<string, unknown>, eventId?: string) => {
  const out = normaliseSentryEvent(parseEventJson(new TextEncoder().encode(JSON.stringify(event))), {
    projectId: PROJECT,
    receivedAt: RECEIVED,
    eventId,
  });
  const stackTrace: string[] = JSON.parse(out.report.stackJson);
  const context: Record<string, unknown> = JSON.parse(out.report.contextJson);
  return { ...out, report: { ...out.report, stackTrace, context } };
};

describe('an exception event from @sentry/node', () => {
  const { report, eventId } = normalise(nodeUncaughtEvent());

  it('becomes a runtime report of the exception at its newest in-app frame', () => {
    expect(report).toMatchObject({
      projectId: PROJECT,
      source: 'runtime',
      errorType: 'TypeError',
      message: "Cannot read properties of undefined (reading 'id')",
      filePath: '/app/src/routes/users.js',
      lineNumber: 42,
      level: 'CRITICAL',
      environment: 'production',
      version: RELEASE_SHA,
      commitHash: RELEASE_SHA,
      occurredAt: '2026-01-01T00:00:00.123Z',
      receivedAt: RECEIVED,
      initialStatus: 'NEW',
    });
    expect(eventId).toBe(EVENT_ID);
  });

  it('writes the stack newest frame first, under a Type: value line', () => {
    expect(report.stackTrace).toEqual([
      "TypeError: Cannot read properties of undefined (reading 'id')",
      '  at getUser (/app/src/routes/users.js:42:23)',
      '  at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)',
      '  at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    ]);
  });

  it('keeps the documented context fields, with the request cut to url and method and secrets filtered', () => {
    const { context } = report;
    expect(context).toMatchObject({
      event_id: EVENT_ID,
      platform: 'node',
      server_name: 'api-7f9c5d',
      sdk: { name: 'sentry.javascript.node', version: '10.5.0' },
      user: { id: '7', ip_address: '10.0.0.12' },
      request: { url: 'https://api.example.com/users/7', method: 'GET' },
      tags: { route: '/users/:id', api_key: '[Filtered]' },
      extra: { password: '[Filtered]', attempt: 2 },
    });
    expect(context.request).toEqual({ url: 'https://api.example.com/users/7', method: 'GET' });
    expect((context.contexts as Record<string, unknown>).runtime).toEqual({
      name: 'node',
      version: 'v22.11.0',
    });
    expect(context.breadcrumbs).toHaveLength(2);
    expect(JSON.stringify(context)).not.toContain('hunter2');
    expect(JSON.stringify(context)).not.toContain('sk_live_123');
    expect(JSON.stringify(context)).not.toContain('never stored');
    expect(context).not.toHaveProperty('modules');
  });

  it('groups by project, type, crash-frame file and function', () => {
    expect(report.fingerprint).toBe(md5(`${PROJECT}|TypeError|/app/src/routes/users.js|getUser`));
  });
});

describe('a chained exception from sentry-python', () => {
  const { report } = normalise(pythonChainedEvent());

  it('reports the last exception of the chain at the newest in-app frame, past a library frame', () => {
    expect(report.errorType).toBe('ValueError');
    expect(report.message).toBe('customer 5 has no billing plan');
    expect(report.filePath).toBe('apps/billing/services.py');
    expect(report.lineNumber).toBe(19);
    expect(report.fingerprint).toBe(md5(`${PROJECT}|ValueError|apps/billing/services.py|plan_for`));
  });

  it('lists the cause after the main stack', () => {
    expect(report.stackTrace).toEqual([
      'ValueError: customer 5 has no billing plan',
      '  at get (django/db/models/query.py:645)',
      '  at plan_for (apps/billing/services.py:19)',
      '  at invoice (apps/billing/views.py:31)',
      '  at _get_response (django/core/handlers/base.py:197)',
      "Caused by: KeyError: 'plan'",
      '  at plan_for (apps/billing/services.py:17)',
    ]);
  });

  it('reads RFC 3339 with microseconds, breadcrumbs wrapped in values, and a non-SHA release', () => {
    expect(report.occurredAt).toBe('2026-01-01T00:00:00.123Z');
    expect(report.context.breadcrumbs).toHaveLength(1);
    expect(report.version).toBe('billing@1.8.0');
    expect(report.commitHash).toBeNull();
    expect(report.level).toBe('ERROR');
  });

  it('never stores frame variables', () => {
    expect(JSON.stringify(report)).not.toContain('tok_live');
  });
});

describe('a browser event', () => {
  it('takes the path of a URL filename', () => {
    const { report } = normalise(browserEvent());
    expect(report.filePath).toBe('/assets/index-3f2a9c1d.js');
    expect(report.lineNumber).toBe(12);
    expect(report.environment).toBe('staging');
    expect(report.stackTrace[1]).toBe(
      '  at onSubmit (https://shop.example.com/assets/index-3f2a9c1d.js:12:4501)',
    );
  });

  it('turns file:// and app:// URLs into paths and falls back to abs_path', () => {
    const at = (frame: Record<string, unknown>) =>
      normalise(
        browserEvent({
          exception: { values: [{ type: 'Error', value: 'x', stacktrace: { frames: [frame] } }] },
        }),
      ).report.filePath;
    expect(at({ filename: 'file:///app/src/index.mjs', lineno: 3 })).toBe('/app/src/index.mjs');
    expect(at({ filename: 'app:///main.jsbundle', lineno: 3 })).toBe('/main.jsbundle');
    expect(at({ filename: 'https://x.example/a%20b.js', lineno: 3 })).toBe('/a b.js');
    expect(at({ abs_path: '/srv/app/jobs/run.py', lineno: 3 })).toBe('/srv/app/jobs/run.py');
    expect(at({ filename: 'C:\\app\\main.js', lineno: 3 })).toBe('C:\\app\\main.js');
  });
});

describe('message events', () => {
  it('reports capture_message as type Message, grouped by the message', () => {
    const { report } = normalise(pythonMessageEvent());
    expect(report).toMatchObject({
      errorType: 'Message',
      message: 'Payment provider answered slowly',
      level: 'WARNING',
      filePath: null,
      lineNumber: null,
      stackTrace: ['Message: Payment provider answered slowly'],
    });
    expect(report.fingerprint).toBe(md5(`${PROJECT}|Message|Payment provider answered slowly`));
  });

  it('prefers logentry.formatted, as the logging integration sends it', () => {
    const { report } = normalise(
      pythonMessageEvent({
        message: undefined,
        logger: 'shop.orders',
        logentry: { message: 'Order %s failed', params: ['A-1'], formatted: 'Order A-1 failed' },
      }),
    );
    expect(report.message).toBe('Order A-1 failed');
  });

  it('reads the old {formatted} message object', () => {
    const { report } = normalise(
      pythonMessageEvent({ message: { formatted: 'Disk almost full', params: [] } }),
    );
    expect(report.message).toBe('Disk almost full');
  });

  it('treats a synthetic exception (captureMessage with attachStacktrace) as a message with a location', () => {
    const { report } = normalise(jsCaptureMessageEvent());
    expect(report.errorType).toBe('Message');
    expect(report.message).toBe('Checkout timed out');
    expect(report.filePath).toBe('/app/src/checkout.js');
    expect(report.lineNumber).toBe(120);
    expect(report.fingerprint).toBe(md5(`${PROJECT}|Message|Checkout timed out`));
    expect(report.stackTrace[0]).toBe('Message: Checkout timed out');
  });

  it('uses the synthetic exception value when there is no message', () => {
    const event = jsCaptureMessageEvent({ message: undefined });
    expect(normalise(event).report.message).toBe('Checkout timed out');
  });

  it('reads the stack of the current thread when sentry-python attaches one', () => {
    const { report } = normalise(
      pythonMessageEvent({
        threads: {
          values: [
            {
              id: 1,
              current: true,
              stacktrace: {
                frames: [{ filename: 'jobs/nightly.py', function: 'run', lineno: 12, in_app: true }],
              },
            },
          ],
        },
      }),
    );
    expect(report.filePath).toBe('jobs/nightly.py');
    expect(report.lineNumber).toBe(12);
  });
});

describe('levels', () => {
  it.each([
    ['fatal', 'CRITICAL'],
    ['error', 'ERROR'],
    ['warning', 'WARNING'],
    ['info', 'INFO'],
    ['log', 'INFO'],
    ['debug', 'DEBUG'],
    ['WARNING', 'WARNING'],
    ['critical', 'CRITICAL'],
    ['verbose', 'ERROR'],
    [undefined, 'ERROR'],
    [3, 'ERROR'],
  ])('%s → %s', (level, expected) => {
    expect(sentryLevel(level)).toBe(expected);
  });
});

describe('release as commit', () => {
  it.each([
    [RELEASE_SHA, RELEASE_SHA],
    ['3F2A9C1', '3f2a9c1'],
    ['shop-web@3f2a9c1d', '3f2a9c1d'],
    ['shop-web@2.4.1', null],
    ['1.2.3', null],
    ['20260501', null],
    ['abc123', null],
    [`${RELEASE_SHA}0`, null],
    [undefined, null],
  ])('%s → %s', (release, expected) => {
    expect(commitFromRelease(release)).toBe(expected);
  });

  it('keeps the release as the version either way', () => {
    expect(normalise(browserEvent()).report).toMatchObject({ version: 'shop-web@2.4.1', commitHash: null });
  });
});

describe('timestamps', () => {
  it.each([
    ['2026-01-01T12:30:00Z', '2026-01-01T12:30:00.000Z'],
    ['2026-01-01T12:30:00.123456Z', '2026-01-01T12:30:00.123Z'],
    ['2026-01-01T14:30:00+02:00', '2026-01-01T12:30:00.000Z'],
    ['2026-01-01T12:30:00.5', '2026-01-01T12:30:00.500Z'],
    [1767270600, '2026-01-01T12:30:00.000Z'],
    [1767270600.25, '2026-01-01T12:30:00.250Z'],
    ['1767270600.25', '2026-01-01T12:30:00.250Z'],
    ['yesterday', RECEIVED],
    [1e20, RECEIVED],
    [undefined, RECEIVED],
  ])('%s → %s', (value, expected) => {
    expect(eventTime(value, RECEIVED)).toBe(expected);
  });
});

describe('context limits', () => {
  it('keeps the last 20 breadcrumbs', () => {
    const crumbs = Array.from({ length: 30 }, (_, i) => ({ category: 'ui.click', message: `click ${i}` }));
    for (const breadcrumbs of [crumbs, { values: crumbs }]) {
      const kept = normalise(nodeUncaughtEvent({ breadcrumbs })).report.context.breadcrumbs as {
        message: string;
      }[];
      expect(kept).toHaveLength(20);
      expect(kept[0]!.message).toBe('click 10');
      expect(kept.at(-1)!.message).toBe('click 29');
    }
  });

  it('filters secrets at any depth in tags, user, contexts and extra', () => {
    const { context } = normalise(
      nodeUncaughtEvent({
        user: { id: '7', session_id: 's3cr3t' },
        contexts: { auth: { access_token: 'tok' } },
        extra: { nested: { db_password: 'pw' } },
      }),
    ).report;
    expect(context.user).toEqual({ id: '7', session_id: '[Filtered]' });
    expect(context.contexts).toEqual({ auth: { access_token: '[Filtered]' } });
    expect(context.extra).toEqual({ nested: { db_password: '[Filtered]' } });
  });

  it('caps the context at 32 KiB', () => {
    const { context } = normalise(nodeUncaughtEvent({ extra: { blob: 'x'.repeat(64 * 1024) } })).report;
    expect(new TextEncoder().encode(JSON.stringify(context)).byteLength).toBeLessThanOrEqual(32 * 1024);
    expect(context._truncated).toMatch(/limit 32768/);
  });

  it('reads tags sent as pairs', () => {
    const { context } = normalise(
      nodeUncaughtEvent({
        tags: [
          ['region', 'eu'],
          ['shard', 3],
        ],
      }),
    ).report;
    expect(context.tags).toEqual({ region: 'eu', shard: 3 });
  });
});

describe('text normalisation', () => {
  it('replaces NUL, strips ANSI and truncates the message like the report API', () => {
    const event = nodeUncaughtEvent();
    const main = event.exception.values[0] as Record<string, unknown>;
    main.type = 'Type\u0000Error';
    main.value = `\u001b[31mred\u001b[0m ${'m'.repeat(9000)}`;
    const { report } = normalise(event);
    expect(report.errorType).toBe('Type\uFFFDError');
    expect(report.message.startsWith('red mmm')).toBe(true);
    expect(report.message).toMatch(/…\[truncated \d+ bytes\]$/);
    expect(new TextEncoder().encode(report.message).byteLength).toBeLessThan(8 * 1024 + 64);
  });

  it('defaults the environment to production and keeps it within 64 characters', () => {
    expect(normalise(nodeUncaughtEvent({ environment: undefined })).report.environment).toBe('production');
    expect(normalise(nodeUncaughtEvent({ environment: 'e'.repeat(100) })).report.environment).toHaveLength(
      64,
    );
  });

  it('refuses a payload that is not a JSON object', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    expect(() => parseEventJson(bytes('{"broken":'))).toThrow(AppError);
    expect(() => parseEventJson(bytes('[1,2]'))).toThrow(/not a JSON object/);
  });
});

describe('event ids', () => {
  it('lets the envelope header win, and normalises a dashed UUID', () => {
    const { eventId, report } = normalise(nodeUncaughtEvent(), 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE');
    expect(eventId).toBe('aaaaaaaabbbbccccddddeeeeeeeeeeee');
    expect(report.context.event_id).toBe(eventId);
  });

  it('generates one when neither has a valid id', () => {
    const { eventId } = normalise(nodeUncaughtEvent({ event_id: 'nope' }));
    expect(eventId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('grouping', () => {
  const fp = (event: Record<string, unknown>) => normalise(event).report.fingerprint;
  const withCrashFrame = (frame: Record<string, unknown>) =>
    nodeUncaughtEvent({
      exception: {
        values: [{ type: 'TypeError', value: 'boom', stacktrace: { frames: [{ in_app: true, ...frame }] } }],
      },
    });

  it('ignores line and column numbers, so a deploy that shifts lines keeps the bug', () => {
    const before = withCrashFrame({ filename: '/app/a.js', function: 'f', lineno: 10, colno: 3 });
    const after = withCrashFrame({ filename: '/app/a.js', function: 'f', lineno: 57, colno: 9 });
    expect(fp(before)).toBe(fp(after));
    expect(fp(withCrashFrame({ filename: '/app/a.js', function: 'g', lineno: 10 }))).not.toBe(fp(before));
  });

  it('ignores the message of an exception', () => {
    const a = withCrashFrame({ filename: '/app/a.js', function: 'f', lineno: 1 });
    const b = structuredClone(a);
    (b.exception.values[0] as Record<string, unknown>).value = 'another value';
    expect(fp(a)).toBe(fp(b));
  });

  it('falls back to the line when the crash frame has no function', () => {
    const a = withCrashFrame({ filename: '/app/a.js', lineno: 10 });
    expect(fp(a)).toBe(md5(`${PROJECT}|TypeError|/app/a.js|10`));
    expect(fp(withCrashFrame({ filename: '/app/a.js', lineno: 11 }))).not.toBe(fp(a));
  });

  it('uses the first line of the message when there is no frame', () => {
    const event = nodeUncaughtEvent({
      exception: { values: [{ type: 'OperationalError', value: 'database is locked\nretry 3 of 3' }] },
    });
    expect(fp(event)).toBe(md5(`${PROJECT}|OperationalError|database is locked`));
  });

  it('lets the SDK fingerprint win, with {{ default }} replaced by the default parts', () => {
    const base = `${PROJECT}|TypeError|/app/src/routes/users.js|getUser`;
    expect(fp(nodeUncaughtEvent({ fingerprint: ['{{ default }}', 'tenant-a'] }))).toBe(
      md5(`${base}|tenant-a`),
    );
    expect(fp(nodeUncaughtEvent({ fingerprint: ['{{default}}'] }))).toBe(md5(base));
    expect(fp(nodeUncaughtEvent({ fingerprint: ['checkout-timeout'] }))).toBe(
      md5(`${PROJECT}|checkout-timeout`),
    );
    expect(fp(nodeUncaughtEvent({ fingerprint: [] }))).toBe(md5(base));
  });
});

describe('crash frame and message grouping as sentry-python marks frames', () => {
  const frame = (filename: string, fn: string, inApp?: boolean) => ({
    filename,
    function: fn,
    lineno: 10,
    ...(inApp !== undefined && { in_app: inApp }),
  });
  const pythonEvent = (frames: Record<string, unknown>[]) => ({
    exception: { values: [{ type: 'JSONDecodeError', value: 'Expecting value', stacktrace: { frames } }] },
    platform: 'python',
  });

  it('takes the newest frame marked in_app over newer unmarked standard-library frames', () => {
    const { report } = normaliseSentryEvent(
      pythonEvent([
        frame('django/core/handlers/base.py', 'get_response', false),
        frame('apps/orders/views.py', 'create_order', true),
        frame('json/__init__.py', 'loads'),
        frame('json/decoder.py', 'raw_decode'),
      ]),
      { projectId: 'p', receivedAt: '2026-11-29T00:00:00.000Z' },
    );
    expect(report.filePath).toBe('apps/orders/views.py');
    expect(report.lineNumber).toBe(10);
  });

  it('falls back to the newest frame not marked false when none is marked in_app', () => {
    const { report } = normaliseSentryEvent(
      pythonEvent([frame('app/main.py', 'main'), frame('site-packages/lib.py', 'call', false)]),
      { projectId: 'p', receivedAt: '2026-11-29T00:00:00.000Z' },
    );
    expect(report.filePath).toBe('app/main.py');
  });

  it('groups a logged message by its template, not by each formatting of it', () => {
    const logged = (id: number) =>
      normaliseSentryEvent(
        {
          logentry: { message: 'Invoice %s failed', params: [id], formatted: `Invoice ${id} failed` },
          level: 'error',
        },
        { projectId: 'p', receivedAt: '2026-11-29T00:00:00.000Z' },
      ).report;
    expect(logged(1).fingerprint).toBe(logged(2).fingerprint);
    expect(logged(1).message).toBe('Invoice 1 failed');
    const plain = (text: string) =>
      normaliseSentryEvent({ message: text }, { projectId: 'p', receivedAt: '2026-11-29T00:00:00.000Z' })
        .report;
    expect(plain('a').fingerprint).not.toBe(plain('b').fingerprint);
  });
});
