import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../app';
import type { Store } from '../state/store';
import { createFakeServer, type FakeServer, makeBug, makeProject } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

let server: FakeServer;
let store: Store;

const waiting = (id: number) =>
  makeBug({
    id,
    status: 'PENDING_REVIEW',
    pr_number: 100 + id,
    pr_url: `https://g.example/t/r/pulls/${100 + id}`,
  });

beforeEach(async () => {
  localStorage.clear();
  localStorage.setItem('log-center.token', 'secret-token');
  server = createFakeServer({
    projects: [makeProject('rtc_backend')],
    bugs: [waiting(11), waiting(12), waiting(13), makeBug({ id: 14, status: 'NEW' })],
  });
  store = startStore('/', server);
  render(<App store={store} />);
  await settle();
});

afterEach(() => {
  cleanup();
  store?.dispose();
});

const batchCalls = () => server.calls.filter((c) => c.path === '/api/v1/bugs/review');
const needsAction = () => screen.getByRole('region', { name: /需要你的操作/ });

describe('batch review on the board', () => {
  it('selects all on the page, approves and merges, and lists a result per bug', async () => {
    server.gitea = (id) => (id === 12 ? { status: 409, message: 'merge conflict in app/views.py' } : null);
    // Only bugs waiting for review get a tick box.
    expect(screen.queryByLabelText('选择缺陷 #14')).toBeNull();
    fireEvent.click(within(needsAction()).getByLabelText('全选本页待审核缺陷'));
    const bar = screen.getByRole('region', { name: '已选 3 个待审核缺陷' });
    fireEvent.click(within(bar).getByRole('button', { name: '批量批准并合并' }));
    expect(within(bar).getByRole('alertdialog').textContent).toContain('确认批准并合并这 3 个 PR?');
    expect(batchCalls()).toEqual([]);
    fireEvent.click(within(bar).getByRole('button', { name: '确认' }));
    await settle();

    expect(batchCalls().map((c) => c.body)).toEqual([{ ids: [11, 12, 13], action: 'approve_and_merge' }]);
    const results = screen.getByTestId('batch-results');
    const row = (id: number) => results.querySelector(`[data-bug-id="${id}"]`)!.textContent;
    expect(row(11)).toContain('成功');
    expect(row(13)).toContain('成功');
    expect(row(12)).toContain('失败');
    expect(row(12)).toContain('Gitea refused the merge (409): merge conflict in app/views.py');
    expect(screen.getByRole('status').textContent).toContain('2 个成功,1 个失败');
    // The board reloaded: only the conflicting bug still waits, and it stays ticked to retry.
    expect(server.bugs.filter((b) => b.status === 'PENDING_REVIEW').map((b) => b.id)).toEqual([12]);
    expect((screen.getByLabelText('选择缺陷 #12') as HTMLInputElement).checked).toBe(true);
    expect(screen.queryByLabelText('选择缺陷 #11')).toBeNull();
  });

  it('rejects the chosen bugs only with a note', async () => {
    fireEvent.click(screen.getByLabelText('选择缺陷 #11'));
    fireEvent.click(screen.getByLabelText('选择缺陷 #13'));
    const bar = screen.getByRole('region', { name: '已选 2 个待审核缺陷' });
    fireEvent.click(within(bar).getByRole('button', { name: '批量驳回' }));
    expect(within(bar).getByRole('alert').textContent).toBe('“要求修改”需要写明审核意见。');
    fireEvent.input(within(bar).getByLabelText('批量审核意见'), { target: { value: 'needs tests' } });
    fireEvent.click(within(bar).getByRole('button', { name: '批量驳回' }));
    fireEvent.click(within(bar).getByRole('button', { name: '确认' }));
    await settle();
    expect(batchCalls().map((c) => c.body)).toEqual([
      { ids: [11, 13], action: 'request_changes', note: 'needs tests' },
    ]);
    expect(server.bugs.find((b) => b.id === 11)!.status).toBe('FIXING');
    expect(server.bugs.find((b) => b.id === 12)!.status).toBe('PENDING_REVIEW');
  });

  it('clears the selection and shows no bar with nothing ticked', async () => {
    fireEvent.click(screen.getByLabelText('选择缺陷 #11'));
    fireEvent.click(screen.getByRole('button', { name: '清除选择' }));
    expect(screen.queryByRole('region', { name: /已选/ })).toBeNull();
  });
});
