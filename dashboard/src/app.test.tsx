import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from './app';
import { TOKEN_KEY } from './state/session';
import type { Store } from './state/store';
import { createFakeServer, type FakeServer, makeBug, makeProject } from './testing/fake-api';
import { settle, startStore } from './testing/setup';

let server: FakeServer;
let store: Store;

async function open(url: string) {
  store = startStore(url, server);
  render(<App store={store} />);
  await settle();
}

beforeEach(() => {
  localStorage.clear();
  server = createFakeServer({
    projects: [makeProject('rtc_backend')],
    bugs: [makeBug({ id: 1, error: { type: 'ValueError', message: 'invalid literal for int()' } })],
  });
});

afterEach(() => {
  cleanup();
  store?.dispose();
});

describe('signing in', () => {
  it('logs in with the link the server prints, then drops the token from the address bar', async () => {
    await open(`/?token=${server.token}`);
    expect(localStorage.getItem(TOKEN_KEY)).toBe(server.token);
    expect(window.location.href).not.toContain(server.token);
    expect(window.location.pathname + window.location.search).toBe('/');
    expect(screen.getByText('invalid literal for int()')).toBeTruthy();
  });

  it('keeps other query parameters of the link', async () => {
    await open(`/?status=NEW&token=${server.token}`);
    expect(window.location.search).toBe('?status=NEW');
  });

  it('shows the login form and no data without a token', async () => {
    await open('/');
    expect(screen.getByRole('heading', { name: '登录 Log Center' })).toBeTruthy();
    expect(server.calls).toEqual([]);
    expect(screen.queryByText('invalid literal for int()')).toBeNull();
  });

  it('refuses a wrong token from the form and accepts the right one', async () => {
    await open('/');
    const input = screen.getByLabelText('API 令牌');
    fireEvent.input(input, { target: { value: 'wrong' } });
    fireEvent.submit(input.closest('form')!);
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('令牌无效');
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(screen.queryByText('invalid literal for int()')).toBeNull();

    fireEvent.input(screen.getByLabelText('API 令牌'), { target: { value: server.token } });
    fireEvent.submit(screen.getByLabelText('API 令牌').closest('form')!);
    await settle();
    expect(screen.getByText('invalid literal for int()')).toBeTruthy();
  });

  it('goes back to the login form, showing nothing of the old data, when the token stops working', async () => {
    localStorage.setItem(TOKEN_KEY, server.token);
    await open('/');
    expect(screen.getByText('invalid literal for int()')).toBeTruthy();

    server.token = 'rotated';
    fireEvent.click(screen.getByRole('link', { name: /invalid literal/ }));
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('登录已失效');
    expect(screen.queryByText('invalid literal for int()')).toBeNull();
    expect(store.board.list.value).toBeNull();
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
  });

  it('signs out on request', async () => {
    localStorage.setItem(TOKEN_KEY, server.token);
    await open('/');
    fireEvent.click(screen.getByRole('button', { name: '退出登录' }));
    await settle();
    expect(screen.getByRole('heading', { name: '登录 Log Center' })).toBeTruthy();
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
  });
});

describe('language', () => {
  it('switches to English and remembers it', async () => {
    localStorage.setItem(TOKEN_KEY, server.token);
    await open('/');
    fireEvent.click(screen.getByRole('button', { name: 'English' }));
    // The English dictionary is loaded on demand.
    expect(await screen.findByRole('heading', { name: 'Bug repair board' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Pending review' })).toBeTruthy();
    expect(localStorage.getItem('log-center.lang')).toBe('en');
  });
});
