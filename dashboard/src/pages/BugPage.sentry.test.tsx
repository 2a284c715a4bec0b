import { cleanup, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../app';
import { crumbTime } from '../lib/sentry';
import type { Store } from '../state/store';
import { createFakeServer, type FakeServer, makeBug } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

const HOSTILE = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;

/** A context as functions/services/sentry/event.ts stores it for a browser SDK event. */
const sentryContext = () => ({
  event_id: '9f1c2a7b3d4e4f5a8b6c7d8e9f0a1b2c',
  platform: 'javascript',
  sdk: { name: 'sentry.javascript.browser', version: '8.45.0' },
  server_name: 'web-1',
  tags: { route: '/checkout' },
  user: { id: '42', email: 'ana@example.com', username: 'ana', ip_address: '203.0.113.9' },
  request: { url: 'https://shop.example.com/checkout?step=2', method: 'POST' },
  contexts: { browser: { name: 'Chrome', version: '131' } },
  breadcrumbs: [
    {
      timestamp: 1767225600.123,
      type: 'default',
      category: 'ui.click',
      level: 'info',
      message: 'button#pay',
    },
    {
      timestamp: '2026-01-01T00:00:01.500Z',
      type: 'http',
      category: 'fetch',
      level: 'error',
      data: { method: 'GET', url: '/api/cart', status_code: 500 },
    },
    { timestamp: 1767225602, category: 'console', level: 'warning', message: HOSTILE },
  ],
});

const STACK = [
  "TypeError: Cannot read properties of undefined (reading 'id')",
  '  at pay (https://shop.example.com/assets/app.js:10:5)',
  '  at HTMLButtonElement.onClick (https://shop.example.com/assets/app.js:3:1)',
];

let server: FakeServer;
let store: Store;

async function open(id: number) {
  localStorage.setItem('log-center.token', server.token);
  store = startStore(`/bugs/${id}`, server);
  render(<App store={store} />);
  await settle();
}

beforeEach(() => {
  localStorage.clear();
  server = createFakeServer();
});

afterEach(() => {
  cleanup();
  store?.dispose();
  delete (window as { __pwned?: number }).__pwned;
});

const panel = () => screen.getByRole('region', { name: /Sentry 事件/ });

/** The value shown beside a label in the panel's facts. */
function fact(label: string) {
  const dt = within(panel())
    .getAllByText(label)
    .find((el) => el.tagName === 'DT');
  return dt?.nextElementSibling?.textContent ?? null;
}

describe('a bug from a Sentry event', () => {
  it('shows the SDK, platform, release, user and request', async () => {
    server.bugs.push(makeBug({ id: 21, version: 'shop@1.4.2', context: sentryContext() }));
    await open(21);

    expect(fact('SDK')).toBe('sentry.javascript.browser 8.45.0');
    expect(fact('平台')).toBe('javascript');
    expect(fact('版本(release)')).toBe('shop@1.4.2');
    expect(fact('用户')).toBe('42 · ana · ana@example.com · 203.0.113.9');
    expect(fact('请求')).toBe('POST https://shop.example.com/checkout?step=2');
    // The request URL is the reporting app's text, not a link into it.
    expect(within(panel()).queryByRole('link')).toBeNull();
  });

  it('lists the breadcrumbs as a table: time, category, level, message', async () => {
    server.bugs.push(makeBug({ id: 22, context: sentryContext() }));
    await open(22);

    expect(within(panel()).getByText('面包屑(最近 3 条)')).toBeTruthy();
    const table = document.querySelector('table.crumbs')!;
    expect([...table.querySelectorAll('th')].map((th) => th.textContent)).toEqual([
      '时间',
      '类别',
      '级别',
      '消息',
    ]);
    const rows = [...table.querySelectorAll('tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent),
    );
    expect(rows).toEqual([
      [crumbTime(1767225600.123), 'ui.click', 'info', 'button#pay'],
      // An HTTP breadcrumb has no message: its request stands in.
      [crumbTime('2026-01-01T00:00:01.500Z'), 'fetch', 'error', 'GET /api/cart [500]'],
      [crumbTime(1767225602), 'console', 'warning', HOSTILE],
    ]);
    expect(rows[0]![0]).toMatch(/^\d\d:\d\d:\d\d\.123$/);
    expect(rows[1]![0]).toMatch(/^\d\d:\d\d:01\.500$/);
  });

  it('shows hostile strings from the event as text, creating no element', async () => {
    const context = sentryContext();
    context.sdk.name = HOSTILE;
    context.platform = HOSTILE;
    context.user.email = HOSTILE;
    context.request.url = `javascript:window.__pwned=3//${HOSTILE}`;
    server.bugs.push(makeBug({ id: 23, version: HOSTILE, context }));
    await open(23);

    expect(fact('SDK')).toBe(`${HOSTILE} 8.45.0`);
    expect(fact('平台')).toBe(HOSTILE);
    expect(fact('版本(release)')).toBe(HOSTILE);
    expect(fact('用户')).toContain(HOSTILE);
    expect(fact('请求')).toBe(`POST javascript:window.__pwned=3//${HOSTILE}`);
    const messages = [...document.querySelector('table.crumbs')!.querySelectorAll('tbody td:last-child')];
    expect(messages.map((td) => td.textContent)).toContain(HOSTILE);
    expect(document.querySelector('img, script:not([src]), iframe')).toBeNull();
    expect(within(panel()).queryByRole('link')).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('keeps going when the context holds odd shapes', async () => {
    server.bugs.push(
      makeBug({
        id: 24,
        context: {
          sdk: { name: { nested: true }, version: 8 },
          user: { id: 7, email: ['a'], segment: 'paid' },
          request: 'GET /',
          breadcrumbs: [null, 'text', { message: { not: 'text' }, data: { from: '/a', to: '/b' } }, {}],
        },
      }),
    );
    await open(24);

    expect(fact('SDK')).toBe('8');
    expect(fact('用户')).toBe('7');
    expect(fact('请求')).toBe('—');
    const rows = [...document.querySelector('table.crumbs')!.querySelectorAll('tbody tr')];
    expect(rows.map((tr) => tr.lastElementChild!.textContent)).toEqual(['{"from":"/a","to":"/b"}', '']);
  });

  it('reads a Sentry stack trace line by line, indentation kept', async () => {
    server.bugs.push(
      makeBug({
        id: 25,
        context: sentryContext(),
        error: {
          type: 'TypeError',
          message: "Cannot read properties of undefined (reading 'id')",
          file_path: '/assets/app.js',
          line_number: 10,
          stack_trace: STACK,
        },
      }),
    );
    await open(25);
    expect(screen.getByTestId('stack-trace').textContent).toBe(STACK.join('\n'));
    expect(screen.getByText('/assets/app.js:10')).toBeTruthy();
  });

  it('shows no Sentry panel for a native report', async () => {
    server.bugs.push(makeBug({ id: 26, context: { note: 'from the report API' } }));
    await open(26);
    expect(screen.queryByRole('region', { name: /Sentry/ })).toBeNull();
  });

  it('reads in English too', async () => {
    localStorage.setItem('log-center.lang', 'en');
    server.bugs.push(makeBug({ id: 27, version: 'shop@1.4.2', context: sentryContext() }));
    await open(27);
    await store.i18n.ready;
    await settle();
    const sentry = screen.getByRole('region', { name: /Sentry event/ });
    expect(within(sentry).getByText('Breadcrumbs (last 3)')).toBeTruthy();
    expect(within(sentry).getByText('Release')).toBeTruthy();
  });
});
