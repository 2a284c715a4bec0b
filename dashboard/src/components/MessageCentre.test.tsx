import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../app';
import { REFRESH_MS, type Store } from '../state/store';
import { createFakeServer, type FakeServer, makeNotification, makeProject } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

let server: FakeServer;
let store: Store;

async function open(url = '/') {
  store = startStore(url, server);
  render(<App store={store} />);
  await settle();
}

beforeEach(() => {
  localStorage.clear();
  localStorage.setItem('log-center.token', 'secret-token');
  server = createFakeServer({
    projects: [makeProject('rtc_backend')],
    notifications: [
      makeNotification({ id: 1, title: 'New bug #1', bug_id: 1 }),
      makeNotification({ id: 2, title: 'PR opened for bug #2', bug_id: 2, kind: 'pr_opened' }),
      makeNotification({
        id: 3,
        title: 'Bug #3 merged',
        bug_id: 3,
        kind: 'merged',
        read_at: new Date().toISOString(),
      }),
    ],
  });
});

afterEach(() => {
  cleanup();
  store?.dispose();
  vi.useRealTimers();
});

const button = () => screen.getByRole('button', { name: /消息中心/ });

describe('message centre', () => {
  it('shows the unread count, lists messages, marks one and then all read', async () => {
    await open();
    expect(button().getAttribute('aria-label')).toBe('消息中心,2 条未读');
    expect(screen.getByTestId('unread-count').textContent).toBe('2');

    fireEvent.click(button());
    await settle();
    const panel = screen.getByRole('region', { name: '消息中心' });
    const items = within(panel).getByTestId('messages').querySelectorAll('li');
    expect([...items].map((li) => li.querySelector('strong')!.textContent)).toEqual([
      'Bug #3 merged',
      'PR opened for bug #2',
      'New bug #1',
    ]);
    expect(panel.querySelectorAll('li.unread')).toHaveLength(2);

    const second = panel.querySelector('[data-message-id="2"]') as HTMLElement;
    fireEvent.click(within(second).getByRole('button', { name: '标为已读' }));
    await settle();
    expect(server.calls.at(-1)).toMatchObject({ path: '/api/v1/notifications/read', body: { ids: [2] } });
    expect(screen.getByTestId('unread-count').textContent).toBe('1');

    fireEvent.click(within(panel).getByRole('button', { name: '全部标为已读' }));
    await settle();
    expect(server.calls.at(-1)).toMatchObject({ path: '/api/v1/notifications/read', body: { all: true } });
    expect(screen.queryByTestId('unread-count')).toBeNull();
    expect(button().getAttribute('aria-label')).toBe('消息中心');
    expect(panel.querySelectorAll('li.unread')).toHaveLength(0);
  });

  it('follows a message to its bug and closes the list', async () => {
    await open();
    fireEvent.click(button());
    await settle();
    fireEvent.click(screen.getByRole('link', { name: '查看缺陷 #2 →' }));
    await settle();
    expect(window.location.pathname).toBe('/bugs/2');
    expect(screen.queryByRole('region', { name: '消息中心' })).toBeNull();
  });

  it('reads the unread count again on the refresh cadence', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    await open();
    expect(screen.getByTestId('unread-count').textContent).toBe('2');
    server.notifications.push(makeNotification({ id: 4, title: 'Bug #4 failed', kind: 'failed' }));
    vi.advanceTimersByTime(REFRESH_MS);
    await settle();
    expect(screen.getByTestId('unread-count').textContent).toBe('3');
  });

  it('has no button when the server has no message centre', async () => {
    const original = server.fetch;
    server.fetch = (input, init) =>
      String(input).includes('/notifications')
        ? Promise.resolve(new Response('{"error":{"code":"not_found","message":"no"}}', { status: 404 }))
        : original(input, init);
    await open();
    expect(screen.queryByRole('button', { name: /消息中心/ })).toBeNull();
    expect(screen.getByRole('heading', { name: 'Bug 自动修复看板' })).toBeTruthy();
  });
});
