import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../app';
import type { Store } from '../state/store';
import { createFakeServer, type FakeServer, makeProject } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

let server: FakeServer;
let store: Store;

beforeEach(() => {
  localStorage.clear();
  localStorage.setItem('log-center.token', 'secret-token');
  server = createFakeServer({
    projects: [
      makeProject('rtc_backend', {
        repo_url: 'https://gitea.example.com/team/rtc_backend.git',
        bug_counts: { total: 7, by_status: { PENDING_REVIEW: 2 } },
        alert_settings: { events: { pr_opened: true } },
      }),
    ],
  });
});

afterEach(() => {
  cleanup();
  store?.dispose();
});

async function open(url: string) {
  store = startStore(url, server);
  render(<App store={store} />);
  await settle();
}

const field = (label: string) => screen.getByLabelText(label) as HTMLInputElement;

describe('projects', () => {
  it('lists projects with their bug counts', async () => {
    await open('/projects');
    const row = document.querySelector('tbody tr')!;
    expect(row.textContent).toContain('rtc_backend');
    expect(row.textContent).toContain('https://gitea.example.com/team/rtc_backend.git');
    expect([...row.querySelectorAll('.num')].map((c) => c.textContent)).toEqual(['7', '2']);
  });

  it('gives the registration command for a new project id', async () => {
    await open('/projects');
    fireEvent.input(screen.getByLabelText('项目 ID'), { target: { value: 'airhub_app' } });
    const command = document.querySelector('.snippet pre')!.textContent!;
    expect(command).toContain('"project_id":"airhub_app"');
    expect(command).toContain('"type":"ProjectInit"');
    fireEvent.submit(screen.getByLabelText('项目 ID').closest('form')!);
    await settle();
    expect(window.location.pathname).toBe('/projects/airhub_app');
    expect(screen.getByText('这个 ID 还没有项目,填写后保存即可创建。')).toBeTruthy();
  });

  it('edits a project and saves every field', async () => {
    await open('/projects/rtc_backend');
    expect(field('仓库地址').value).toBe('https://gitea.example.com/team/rtc_backend.git');
    expect((screen.getByLabelText('PR 已创建') as HTMLInputElement).checked).toBe(true);

    fireEvent.input(field('名称'), { target: { value: 'RTC backend' } });
    fireEvent.input(field('本地路径'), { target: { value: '/srv/rtc_backend' } });
    fireEvent.input(field('描述'), { target: { value: 'Django API' } });
    fireEvent.input(field('Slack Webhook 地址'), {
      target: { value: 'https://hooks.slack.com/services/T/B/x' },
    });
    fireEvent.click(screen.getByLabelText('回归'));
    fireEvent.change(screen.getByLabelText('最低级别'), { target: { value: 'ERROR' } });
    fireEvent.click(screen.getByRole('button', { name: '生成' }));
    fireEvent.click(screen.getByRole('button', { name: '保存' }));
    await settle();

    const put = server.calls.find((c) => c.method === 'PUT')!;
    expect(put.path).toBe('/api/v1/projects/rtc_backend');
    expect(put.body).toMatchObject({
      name: 'RTC backend',
      repo_url: 'https://gitea.example.com/team/rtc_backend.git',
      local_path: '/srv/rtc_backend',
      description: 'Django API',
      rate_limit_per_minute: null,
      alert_settings: {
        slack_webhook_url: 'https://hooks.slack.com/services/T/B/x',
        alert_webhook_url: null,
        events: { new_bug: true, regression: false, failed: true, pr_opened: true },
        min_level: 'ERROR',
      },
    });
    // A generated key fits a Sentry DSN, as the server requires of every new key.
    const key = (put.body as { ingest_key: string }).ingest_key;
    expect(key).toMatch(/^\w{8,200}$/);
    expect(screen.getByRole('status').textContent).toBe('已保存');
    // The registration command and the DSN now carry the key, so the project's reports pass.
    expect(document.querySelector('#register ~ .snippet pre')!.textContent).toContain(
      `X-Log-Center-Key: ${key}`,
    );
    expect(screen.getByTestId('sentry-dsn').textContent).toContain(`http://${key}@127.0.0.1:8002/1`);
  });

  it('checks the form before sending it', async () => {
    await open('/projects/rtc_backend');
    fireEvent.input(field('上报密钥(X-Log-Center-Key)'), { target: { value: 'short' } });
    fireEvent.input(field('通用告警 Webhook 地址'), { target: { value: 'ftp://example.com' } });
    fireEvent.click(screen.getByRole('button', { name: '保存' }));
    await settle();
    expect(server.calls.some((c) => c.method === 'PUT')).toBe(false);
    expect(screen.getByText('上报密钥至少 8 个字符。')).toBeTruthy();
    expect(screen.getByText('请输入 http:// 或 https:// 开头的地址。')).toBeTruthy();

    fireEvent.input(field('上报密钥(X-Log-Center-Key)'), { target: { value: 'with-a-dash' } });
    await settle();
    expect(screen.getByText(/上报密钥只能包含字母、数字和下划线/)).toBeTruthy();
    expect(server.calls.some((c) => c.method === 'PUT')).toBe(false);
  });
});
