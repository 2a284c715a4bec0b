import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../app';
import type { Store } from '../state/store';
import { createFakeServer, type FakeServer, makeBug } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

let server: FakeServer;
let store: Store;

const XSS = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;

const diff = `diff --git a/app/views.py b/app/views.py
--- a/app/views.py
+++ b/app/views.py
@@ -23,3 +23,4 @@ def user_login(request):
 def user_login(request):
-    for item in request.user:
+    if request.user is not None:
+        for item in request.user:
         # ... rest of code
`;

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

describe('bug detail', () => {
  it('renders markup from a report as text, never as elements', async () => {
    server.bugs.push(
      makeBug({
        id: 7,
        error: { type: `Err${XSS}`, message: XSS, file_path: `<b>x</b>.py`, stack_trace: [XSS, 'line 2'] },
        context: { note: XSS, nested: { html: '<iframe src="javascript:alert(1)">' } },
        source: 'cicd',
      }),
    );
    server.bugs[0]!.context.run_url = 'javascript:window.__pwned=3';
    await open(7);

    expect(screen.getByTestId('error-message').textContent).toContain(XSS);
    expect(screen.getByTestId('stack-trace').textContent).toContain(XSS);
    expect(screen.getByTestId('context').textContent).toContain('<iframe src=\\"javascript:alert(1)\\">');
    expect(document.querySelector('img[src="x"], script:not([src]), iframe, b')).toBeNull();
    // The CI run link is not an http(s) URL, so it is shown as text, not as a link.
    expect(screen.getByText('javascript:window.__pwned=3').closest('a')).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('shows CI details and explains why trigger fix is disabled for a CI/CD bug', async () => {
    server.bugs.push(
      makeBug({
        id: 8,
        source: 'cicd',
        status: 'FAILED',
        error: { type: 'DockerBuildError', file_path: null, line_number: null },
        context: {
          workflow: 'Build and Deploy',
          job_name: 'build-and-deploy',
          step_name: 'docker build',
          run_id: '24',
          run_url: 'https://gitea.example.com/team/app/actions/runs/24',
        },
      }),
    );
    await open(8);

    const ci = screen.getByRole('region', { name: /CI\/CD 详情/ });
    expect(within(ci).getByText('Build and Deploy')).toBeTruthy();
    expect(within(ci).getByText('build-and-deploy')).toBeTruthy();
    expect(within(ci).getByText('docker build')).toBeTruthy();
    const run = within(ci).getByRole('link', { name: /#24/ }) as HTMLAnchorElement;
    expect(run.href).toBe('https://gitea.example.com/team/app/actions/runs/24');
    expect(run.rel).toContain('noopener');

    const trigger = screen.getByRole('button', { name: '触发修复' }) as HTMLButtonElement;
    expect(trigger.disabled).toBe(true);
    expect(trigger.getAttribute('aria-describedby')).toBe('trigger-fix-hint');
    expect(document.getElementById('trigger-fix-hint')!.textContent).toContain('只处理运行时错误');
    expect((screen.getByRole('button', { name: '重新打开' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows pod details for a deployment bug', async () => {
    server.bugs.push(
      makeBug({
        id: 9,
        source: 'deployment',
        level: 'CRITICAL',
        error: { type: 'CrashLoopBackOff', file_path: null, line_number: null },
        context: { namespace: 'prod', pod_name: 'api-7d9-x', container_name: 'api', restart_count: 5 },
      }),
    );
    await open(9);
    const pod = screen.getByRole('region', { name: /Pod 详情/ });
    for (const text of ['prod', 'api-7d9-x', 'api', '5']) expect(within(pod).getByText(text)).toBeTruthy();
    expect(screen.queryByRole('region', { name: /CI\/CD 详情/ })).toBeNull();
  });

  it('shows the repair report, the PR card and the diff as a diff', async () => {
    server.bugs.push(
      makeBug({
        id: 10,
        status: 'PENDING_REVIEW',
        pr_number: 45,
        pr_url: 'https://gitea.example.com/team/app/pulls/45',
        branch_name: 'fix/auto-20260225-1430',
        repair_reports: [
          {
            id: 1,
            bug_id: 10,
            agent_id: 'agent-1',
            analysis: 'request.user may be None; add a check',
            modified_files: ['app/views.py'],
            diff,
            test_passed: true,
            test_output: '2 passed in 0.1s',
            branch_name: 'fix/auto-20260225-1430',
            pr_number: 45,
            pr_url: 'https://gitea.example.com/team/app/pulls/45',
            duration_ms: 125_000,
            tokens_in: 1200,
            tokens_out: 300,
            model: 'claude',
            created_at: new Date().toISOString(),
          },
        ],
      }),
    );
    await open(10);

    expect(screen.getByText('request.user may be None; add a check')).toBeTruthy();
    const report = screen.getByRole('region', { name: /修复报告/ });
    expect(within(report).getByText('app/views.py').parentElement!.textContent).toContain('(+2, -1)');
    expect(within(report).getByText(/通过\(2 个测试\)/)).toBeTruthy();

    const review = screen.getByRole('link', { name: /前往 Gitea 审核 PR/ }) as HTMLAnchorElement;
    expect(review.href).toBe('https://gitea.example.com/team/app/pulls/45');
    expect(review.target).toBe('_blank');
    expect(screen.getByText('PR #45')).toBeTruthy();
    expect(screen.getByText('1 个文件 (+2, -1)')).toBeTruthy();

    const added = document.querySelectorAll('.diff-line.add');
    const removed = document.querySelectorAll('.diff-line.del');
    expect(added).toHaveLength(2);
    expect(removed).toHaveLength(1);
    expect(removed[0]!.textContent).toContain('for item in request.user:');
  });

  it('changes the status and shows it in the history', async () => {
    server.bugs.push(makeBug({ id: 11, status: 'NEW' }));
    await open(11);

    fireEvent.input(screen.getByPlaceholderText(/可选/), { target: { value: 'not worth fixing' } });
    fireEvent.click(screen.getByRole('button', { name: '标记失败' }));
    await settle();

    const put = server.calls.find((c) => c.method === 'PUT');
    expect(put).toMatchObject({
      path: '/api/v1/bugs/11/status',
      body: { status: 'FAILED', note: 'not worth fixing' },
    });
    expect(screen.getByRole('status').textContent).toContain('已标记为失败');
    const history = screen.getByTestId('history');
    expect(history.textContent).toContain('not worth fixing');
    expect(within(history).getAllByText('失败')).toHaveLength(1);
    // From FAILED the fix can be triggered again.
    expect((screen.getByRole('button', { name: '触发修复' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('explains a refused transition and shows the state the bug is really in', async () => {
    server.bugs.push(makeBug({ id: 12, status: 'NEW' }));
    await open(12);
    // Meanwhile the agent claims it.
    server.bugs[0]!.status = 'FIXING';
    fireEvent.click(screen.getByRole('button', { name: '忽略' }));
    await settle();

    expect(screen.getByRole('alert').textContent).toContain('当前状态不允许这个操作');
    expect(screen.getAllByText('修复中').length).toBeGreaterThan(0);
  });
});
