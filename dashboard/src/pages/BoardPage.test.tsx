import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../app';
import type { Store } from '../state/store';
import { createFakeServer, type FakeServer, makeBug, makeProject, makeStats } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

let server: FakeServer;
let store: Store;

async function open(url: string) {
  localStorage.setItem('log-center.token', server.token);
  store = startStore(url, server);
  render(<App store={store} />);
  await settle();
}

const rowIds = (container: HTMLElement) =>
  [...container.querySelectorAll('tr[data-bug-id]')].map((row) => Number(row.getAttribute('data-bug-id')));

beforeEach(() => {
  localStorage.clear();
  server = createFakeServer({
    projects: [makeProject('rtc_backend'), makeProject('rtc_web')],
    bugs: [
      makeBug({ id: 1, status: 'NEW', error: { type: 'ValueError', message: 'bad int' } }),
      makeBug({ id: 2, status: 'PENDING_REVIEW', error: { type: 'TypeError', message: 'in user_login' } }),
      makeBug({
        id: 3,
        source: 'cicd',
        status: 'NEW',
        project_id: 'rtc_web',
        error: { type: 'NpmBuildError' },
      }),
      makeBug({
        id: 4,
        source: 'deployment',
        status: 'FAILED',
        level: 'CRITICAL',
        error: { type: 'OOMKilled' },
      }),
      makeBug({ id: 5, status: 'IGNORED', error: { type: 'ProjectInit' } }),
    ],
    stats: makeStats({
      today: {
        new: 12,
        by_status: { NEW: 12, FIXING: 3, PENDING_REVIEW: 5, MERGED: 8, DEPLOYED: 15, FAILED: 1, IGNORED: 0 },
      },
    }),
  });
});

afterEach(() => {
  cleanup();
  store?.dispose();
});

describe('bug board', () => {
  it("shows today's counts per status", async () => {
    await open('/');
    const today = screen.getByRole('region', { name: '今日统计' });
    const value = (status: string) =>
      today.querySelector(`[data-status="${status}"] .card-value`)!.textContent;
    expect(['NEW', 'FIXING', 'PENDING_REVIEW', 'MERGED', 'DEPLOYED', 'FAILED'].map(value)).toEqual([
      '12',
      '3',
      '5',
      '8',
      '15',
      '1',
    ]);
  });

  it('puts bugs waiting for review on top and leaves ignored ones out of "all"', async () => {
    await open('/');
    const needsAction = screen.getByRole('region', { name: /需要你的操作/ });
    expect(rowIds(needsAction)).toEqual([2]);
    const list = screen.getByRole('region', { name: /其他缺陷/ });
    expect(rowIds(list).sort()).toEqual([1, 3, 4]);
    // Badges and relative times on each row.
    const cicdRow = list.querySelector('tr[data-bug-id="3"]')!;
    expect(within(cicdRow as HTMLElement).getByText('CI/CD')).toBeTruthy();
    expect(cicdRow.querySelector('time')!.textContent).toBe('5分钟前');
    expect(list.querySelector('tr[data-bug-id="4"] .level-critical')!.textContent).toBe('CRITICAL');
  });

  it('filters by source through the URL, and the back button undoes it', async () => {
    await open('/');
    fireEvent.click(screen.getByRole('link', { name: 'CI/CD' }));
    await settle();
    expect(window.location.search).toBe('?source=cicd');
    expect(server.calls.at(-2)!.query.get('source')).toBe('cicd');
    expect(rowIds(document.body)).toEqual([3]);
    expect(screen.getByRole('link', { name: 'CI/CD' }).getAttribute('aria-current')).toBe('page');

    // The browser's back button: the address changes, then popstate fires.
    window.history.replaceState(null, '', '/');
    window.dispatchEvent(new PopStateEvent('popstate'));
    await settle();
    expect(window.location.search).toBe('');
    expect(rowIds(document.body).sort()).toEqual([1, 2, 3, 4]);
  });

  it('reads status, project, search and page from a shared link', async () => {
    await open('/?status=NEW&project=rtc_web&q=npm&page=1');
    const listCall = server.calls.find((c) => c.path === '/api/v1/bugs')!;
    expect(Object.fromEntries(listCall.query)).toMatchObject({
      status: 'NEW',
      project_id: 'rtc_web',
      q: 'npm',
    });
    expect(rowIds(document.body)).toEqual([3]);
    expect((screen.getByRole('searchbox') as HTMLInputElement).value).toBe('npm');
    expect(screen.queryByRole('region', { name: /需要你的操作/ })).toBeNull();
  });

  it('searches from the search box', async () => {
    await open('/');
    fireEvent.input(screen.getByRole('searchbox'), { target: { value: 'OOM' } });
    fireEvent.submit(screen.getByRole('searchbox').closest('form')!);
    await settle();
    expect(window.location.search).toBe('?q=OOM');
    expect(rowIds(document.body)).toEqual([4]);
  });

  it('pages through a long list', async () => {
    server.bugs = Array.from({ length: 30 }, (_, i) => makeBug({ id: 100 + i }));
    await open('/');
    expect(rowIds(document.body)).toHaveLength(25);
    expect(screen.getByText('第 1 / 2 页,共 30 个')).toBeTruthy();
    fireEvent.click(screen.getByRole('link', { name: '下一页' }));
    await settle();
    expect(window.location.search).toBe('?page=2');
    expect(rowIds(document.body)).toHaveLength(5);
  });

  it('tells a newcomer how to send a first report when nothing has arrived yet', async () => {
    server.bugs = [];
    server.stats = makeStats();
    await open('/');
    expect(screen.getByText('还没有收到任何错误报告')).toBeTruthy();
    const snippet = document.querySelector('.snippet pre')!.textContent!;
    expect(snippet).toContain(`curl -X POST '${window.location.origin}/api/v1/logs/report'`);
    expect(snippet).toContain('"project_id":"my_project"');
  });

  it('says so when filters match nothing, with a way back', async () => {
    await open('/?q=nothing-matches');
    expect(screen.getByText('没有符合筛选条件的缺陷。')).toBeTruthy();
    expect(screen.getByRole('link', { name: '清除筛选' }).getAttribute('href')).toBe('/');
  });

  it('shows an error with a retry when the list cannot be loaded', async () => {
    const online = server.fetch;
    let reachable = false;
    server.fetch = async (input, init) => {
      if (!reachable) throw new TypeError('Failed to fetch');
      return online(input, init);
    };
    await open('/');
    reachable = true;
    expect(screen.getByRole('alert').textContent).toContain('无法连接 Log Center 服务器');
    fireEvent.click(screen.getByRole('button', { name: '重试' }));
    await settle();
    expect(rowIds(document.body).length).toBeGreaterThan(0);
  });
});
