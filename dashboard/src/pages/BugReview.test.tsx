import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../app';
import { FOLLOW_UP_MS } from '../state/review';
import type { Store } from '../state/store';
import { createFakeServer, type FakeServer, makeActivity, makeBug, makeProject } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

let server: FakeServer;
let store: Store;

async function open(id: number) {
  localStorage.setItem('log-center.token', server.token);
  store = startStore(`/bugs/${id}`, server);
  render(<App store={store} />);
  await settle();
}

const reviewPanel = () => screen.getByRole('region', { name: /PR 审核/ });
const reviewCalls = () => server.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/review'));

beforeEach(() => {
  localStorage.clear();
  server = createFakeServer({
    projects: [
      makeProject('rtc_backend', {
        review_settings: {
          reviewers: ['alice'],
          merge_style: 'squash',
          auto_approve: { enabled: false, max_changed_lines: 20, allowed_paths: [], merge: false },
        },
      }),
    ],
    bugs: [
      makeBug({
        id: 5,
        status: 'PENDING_REVIEW',
        pr_number: 45,
        pr_url: 'https://gitea.example.com/team/rtc_backend/pulls/45',
        branch_name: 'fix/auto-1',
      }),
    ],
  });
});

afterEach(() => {
  cleanup();
  store?.dispose();
});

describe('review panel', () => {
  it("approves and merges with the project's merge style after a confirmation, then shows the merge", async () => {
    await open(5);
    const panel = reviewPanel();
    expect((within(panel).getByLabelText('合并方式') as HTMLSelectElement).value).toBe('squash');
    fireEvent.input(within(panel).getByLabelText('审核意见'), { target: { value: 'looks right' } });
    fireEvent.click(within(panel).getByRole('button', { name: '批准并合并' }));
    // Nothing is sent before the person confirms.
    expect(reviewCalls()).toEqual([]);
    const confirm = within(panel).getByRole('alertdialog');
    expect(confirm.textContent).toContain('确认批准并以「压缩合并(squash)」方式合并 PR #45');
    fireEvent.click(within(confirm).getByRole('button', { name: '确认' }));
    await settle();

    expect(reviewCalls().map((c) => c.body)).toEqual([
      { action: 'approve_and_merge', note: 'looks right', merge_style: 'squash' },
    ]);
    // The fake's webhook moved the bug to MERGED; the page read it back and the panel is gone.
    expect(screen.getByRole('region', { name: /基本信息/ }).textContent).toContain('已合并');
    expect(screen.queryByRole('region', { name: /^✅ PR 审核/ })).toBeNull();
    const activity = screen.getByTestId('activity');
    expect(
      activity.querySelector('[data-kind="merge_requested"][data-actor="person"]')?.textContent,
    ).toContain('looks right');
  });

  it("keeps reading the bug after a merge until Gitea's webhook has moved it", async () => {
    server.webhookMoves = false;
    await open(5);
    fireEvent.click(within(reviewPanel()).getByRole('button', { name: '批准并合并' }));
    fireEvent.click(within(reviewPanel()).getByRole('button', { name: '确认' }));
    await settle();
    expect(screen.getByRole('status').textContent).toBe('已批准并请求合并,等待 Gitea 的合并通知…');
    expect(screen.getByRole('region', { name: /基本信息/ }).textContent).toContain('待审核');
    // The webhook lands a moment later; the page picks it up without a reload.
    server.bugs[0]!.status = 'MERGED';
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_UP_MS + 200));
    await settle();
    expect(screen.getByRole('region', { name: /基本信息/ }).textContent).toContain('已合并');
  });

  it('lets the person pick another merge style for this PR', async () => {
    await open(5);
    const panel = reviewPanel();
    fireEvent.change(within(panel).getByLabelText('合并方式'), { target: { value: 'rebase' } });
    fireEvent.click(within(panel).getByRole('button', { name: '批准并合并' }));
    fireEvent.click(within(panel).getByRole('button', { name: '确认' }));
    await settle();
    expect(reviewCalls()[0]?.body).toEqual({ action: 'approve_and_merge', merge_style: 'rebase' });
  });

  it('asks for a note before requesting changes, and cancelling sends nothing', async () => {
    await open(5);
    const panel = reviewPanel();
    fireEvent.click(within(panel).getByRole('button', { name: '要求修改' }));
    expect(within(panel).getByRole('alert').textContent).toBe('“要求修改”需要写明审核意见。');
    expect(within(panel).queryByRole('alertdialog')).toBeNull();

    fireEvent.input(within(panel).getByLabelText('审核意见'), {
      target: { value: 'handle an empty id too' },
    });
    fireEvent.click(within(panel).getByRole('button', { name: '要求修改' }));
    fireEvent.click(within(panel).getByRole('button', { name: '取消' }));
    expect(reviewCalls()).toEqual([]);

    fireEvent.click(within(panel).getByRole('button', { name: '要求修改' }));
    fireEvent.click(within(panel).getByRole('button', { name: '确认' }));
    await settle();
    expect(reviewCalls().map((c) => c.body)).toEqual([
      { action: 'request_changes', note: 'handle an empty id too' },
    ]);
    expect(screen.getByRole('region', { name: /基本信息/ }).textContent).toContain('修复中');
  });

  it("shows Gitea's reason when Gitea refuses, and nothing changes", async () => {
    server.gitea = () => ({ status: 405, message: 'Please try again later' });
    await open(5);
    const panel = reviewPanel();
    fireEvent.input(within(panel).getByLabelText('审核意见'), { target: { value: 'ship it' } });
    fireEvent.click(within(panel).getByRole('button', { name: '批准并合并' }));
    fireEvent.click(within(panel).getByRole('button', { name: '确认' }));
    await settle();

    expect(screen.getByTestId('review-error').textContent).toBe(
      'Gitea 拒绝了这个操作,缺陷没有任何变化: Gitea refused the merge (405): Please try again later',
    );
    expect(server.bugs[0]!.status).toBe('PENDING_REVIEW');
    expect(server.bugs[0]!.activity).toEqual([]);
    // The panel stays, with the note, to try again.
    expect((within(reviewPanel()).getByLabelText('审核意见') as HTMLTextAreaElement).value).toBe('ship it');
  });

  it('says the server has no Gitea configured, in its own words', async () => {
    const original = server.fetch;
    server.fetch = (input, init) =>
      String(input).endsWith('/review')
        ? Promise.resolve(
            new Response(
              JSON.stringify({
                error: { code: 'not_configured', message: 'GITEA_URL is not set', request_id: 'r' },
              }),
              { status: 503, headers: { 'Content-Type': 'application/json' } },
            ),
          )
        : original(input, init);
    await open(5);
    fireEvent.click(within(reviewPanel()).getByRole('button', { name: '批准' }));
    fireEvent.click(within(reviewPanel()).getByRole('button', { name: '确认' }));
    await settle();
    expect(screen.getByTestId('review-error').textContent).toBe(
      '服务器没有配置 Gitea(GITEA_URL 和 GITEA_TOKEN),无法在这里审核: GITEA_URL is not set',
    );
  });

  it('reads in English when English is chosen', async () => {
    localStorage.setItem('log-center.lang', 'en');
    await open(5);
    await store.i18n.ready;
    await settle();
    const panel = screen.getByRole('region', { name: /PR review/ });
    fireEvent.click(within(panel).getByRole('button', { name: 'Approve & merge' }));
    expect(within(panel).getByRole('alertdialog').textContent).toContain(
      'Approve PR #45 and merge it (Squash)?',
    );
    expect(screen.getByRole('region', { name: /Review activity \(PR comments synced\)/ })).toBeTruthy();
  });

  it('offers no review for a bug without a PR or not waiting for review', async () => {
    server.bugs.push(makeBug({ id: 6, status: 'NEW' }));
    server.bugs.push(makeBug({ id: 7, status: 'MERGED', pr_number: 3, pr_url: 'https://g.example/p/3' }));
    await open(6);
    expect(screen.queryByRole('region', { name: /PR 审核/ })).toBeNull();
    cleanup();
    store.dispose();
    await open(7);
    expect(screen.queryByRole('region', { name: /PR 审核/ })).toBeNull();
    expect(screen.getByRole('region', { name: /审核动态/ }).textContent).toContain('还没有审核动态');
  });

  it('lists cockpit actions, policy decisions and Gitea reviews and comments, each actor told apart', async () => {
    server.bugs[0]!.activity = [
      makeActivity({
        kind: 'reviewers_requested',
        actor: 'system',
        body: null,
        data: { reviewers: ['alice', 'bob'] },
      }),
      makeActivity({
        kind: 'auto_approval_skipped',
        actor: 'policy',
        body: 'changes package.json, a dependency manifest',
      }),
      makeActivity({
        kind: 'gitea_review',
        actor: 'gitea:alice',
        body: 'Please cover <script>alert(1)</script> too',
        data: { state: 'REQUEST_CHANGES', review_id: 9 },
      }),
      makeActivity({
        kind: 'gitea_comment',
        actor: 'gitea:bob',
        body: 'nit: rename',
        data: { path: 'app/views.py', line: 24, html_url: 'javascript:alert(1)' },
      }),
      makeActivity({ kind: 'review_approved', actor: 'person', body: 'ok now', data: {} }),
    ];
    await open(5);
    const list = screen.getByTestId('activity');
    const items = [...list.querySelectorAll('li')];
    // Newest first.
    expect(items.map((li) => li.getAttribute('data-actor'))).toEqual([
      'person',
      'gitea',
      'gitea',
      'policy',
      'other',
    ]);
    expect(items[0]!.textContent).toContain('审核人');
    expect(items[1]!.textContent).toContain('Gitea · bob');
    expect(items[1]!.textContent).toContain('位置:app/views.py:24');
    expect(items[2]!.textContent).toContain('要求修改');
    expect(items[2]!.textContent).toContain('<script>alert(1)</script>');
    expect(items[3]!.textContent).toContain('自动审批策略');
    expect(items[4]!.textContent).toContain('审核人:alice, bob');
    // Text stays text, and a non-http link from a comment is not a link.
    expect(list.querySelector('script')).toBeNull();
    expect(list.querySelector('a')).toBeNull();
  });
});
