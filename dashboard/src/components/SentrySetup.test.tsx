import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../app';
import type { Store } from '../state/store';
import { createFakeServer, type FakeServer, makeProject } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

const KEY = 'k3y_for_the_sdk_0123456789';
const DSN = `http://${KEY}@127.0.0.1:8002/42`;

let server: FakeServer;
let store: Store;
const original = Object.getOwnPropertyDescriptor(navigator, 'clipboard');

function setClipboard(value: unknown) {
  Object.defineProperty(navigator, 'clipboard', { value, configurable: true });
}

beforeEach(() => {
  localStorage.clear();
  server = createFakeServer({
    projects: [
      makeProject('rtc_backend', { sentry_id: 42, ingest_key: KEY }),
      makeProject('legacy', { sentry_id: 7, ingest_key: 'old-key.with/dashes' }),
    ],
  });
});

afterEach(() => {
  cleanup();
  store?.dispose();
  if (original) Object.defineProperty(navigator, 'clipboard', original);
  else delete (navigator as { clipboard?: unknown }).clipboard;
  getSelection()?.removeAllRanges();
});

async function open(url: string) {
  localStorage.setItem('log-center.token', server.token);
  store = startStore(url, server);
  render(<App store={store} />);
  await settle();
}

const panel = () => screen.getByRole('region', { name: /Sentry/ });

describe('Sentry DSN on the project page', () => {
  it('shows the DSN and copies it to the clipboard', async () => {
    const writeText = vi.fn(async (_text: string) => {});
    setClipboard({ writeText });
    await open('/projects/rtc_backend');

    const dsn = screen.getByTestId('sentry-dsn');
    expect(dsn.querySelector('pre')!.textContent).toBe(DSN);
    fireEvent.click(within(dsn).getByRole('button', { name: '复制' }));
    await settle();
    expect(writeText).toHaveBeenCalledWith(DSN);
    expect(within(dsn).getByRole('button').textContent).toBe('已复制');
  });

  it('selects the DSN when there is no clipboard (plain http), so Ctrl+C copies it', async () => {
    setClipboard(undefined);
    await open('/projects/rtc_backend');

    const dsn = screen.getByTestId('sentry-dsn');
    fireEvent.click(within(dsn).getByRole('button', { name: '复制' }));
    await settle();
    expect(getSelection()!.toString()).toBe(DSN);
    expect(within(dsn).getByRole('button').textContent).toBe('请按 Ctrl+C');
  });

  it('gives a setup snippet for each SDK with the DSN filled in', async () => {
    await open('/projects/rtc_backend');
    const snippet = () => screen.getByTestId('sentry-snippet').querySelector('pre')!.textContent!;
    const pick = (name: string) => {
      const button = within(panel()).getByRole('button', { name });
      fireEvent.click(button);
      expect(button.getAttribute('aria-pressed')).toBe('true');
    };

    expect(snippet()).toContain(`import * as Sentry from '@sentry/browser';`);
    expect(snippet()).toContain(`Sentry.init({ dsn: '${DSN}' });`);
    pick('@sentry/node');
    expect(snippet()).toContain(`import * as Sentry from '@sentry/node';`);
    expect(snippet()).toContain(`Sentry.init({ dsn: '${DSN}' });`);
    pick('sentry-python');
    expect(snippet()).toContain(`sentry_sdk.init(dsn='${DSN}')`);
    pick('sentry_flutter');
    expect(snippet()).toContain(`(options) => options.dsn = '${DSN}',`);
    expect(snippet()).toContain('appRunner: () => runApp(const MyApp()),');
    expect(within(panel()).getAllByRole('button', { pressed: true })).toHaveLength(1);
  });

  it("says why there is no DSN, in the server's words, when the stored key does not fit one", async () => {
    await open('/projects/legacy');
    expect(screen.queryByTestId('sentry-dsn')).toBeNull();
    expect(screen.queryByTestId('sentry-snippet')).toBeNull();
    expect(screen.getByTestId('sentry-dsn-hint').textContent).toBe(
      '这个项目没有 Sentry DSN。 Rotate the ingest key to 8-200 letters, digits or underscores to get a Sentry DSN',
    );
  });

  it('gives a DSN once a fitting key is saved', async () => {
    await open('/projects/legacy');
    fireEvent.click(screen.getByRole('button', { name: '生成' }));
    fireEvent.click(screen.getByRole('button', { name: '保存' }));
    await settle();
    const key = (server.calls.find((c) => c.method === 'PUT')!.body as { ingest_key: string }).ingest_key;
    expect(screen.getByTestId('sentry-dsn').querySelector('pre')!.textContent).toBe(
      `http://${key}@127.0.0.1:8002/7`,
    );
    expect(screen.queryByTestId('sentry-dsn-hint')).toBeNull();
  });

  it('shows no DSN block for a project not saved yet, and the DSN once it is', async () => {
    await open('/projects/fresh');
    expect(screen.queryByRole('region', { name: /Sentry/ })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: '创建项目' }));
    await settle();
    expect(screen.getByTestId('sentry-dsn').textContent).toContain('http://public@127.0.0.1:8002/1');
  });

  it('reads in English too', async () => {
    localStorage.setItem('log-center.lang', 'en');
    await open('/projects/legacy');
    await store.i18n.ready;
    await settle();
    expect(screen.getByRole('heading', { name: 'Sentry SDKs' })).toBeTruthy();
    expect(screen.getByTestId('sentry-dsn-hint').textContent).toContain('This project has no Sentry DSN.');
  });
});
