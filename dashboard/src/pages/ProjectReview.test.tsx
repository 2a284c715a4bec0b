import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../app';
import type { Store } from '../state/store';
import { createFakeServer, type FakeServer, makeProject } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

let server: FakeServer;
let store: Store;

beforeEach(async () => {
  localStorage.clear();
  localStorage.setItem('log-center.token', 'secret-token');
  server = createFakeServer({
    projects: [
      makeProject('rtc_backend', {
        alert_settings: {
          email_recipients: ['lead@example.com'],
          dingtalk_webhook_url: 'https://oapi.dingtalk.com/robot/send?access_token=abc',
          dingtalk_secret: 'SECabc',
          events: { merged: true },
        },
        review_settings: {
          reviewers: ['alice', 'bob'],
          merge_style: 'rebase',
          auto_approve: {
            enabled: true,
            max_changed_lines: 30,
            allowed_paths: ['src/', 'docs/'],
            merge: false,
          },
        },
      }),
    ],
  });
  store = startStore('/projects/rtc_backend', server);
  render(<App store={store} />);
  await settle();
});

afterEach(() => {
  cleanup();
  store?.dispose();
});

const field = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const puts = () => server.calls.filter((c) => c.method === 'PUT');

describe('project review and notification settings', () => {
  it('shows what is stored and saves every field', async () => {
    expect(field('指定审批人').value).toBe('alice, bob');
    expect((screen.getByLabelText('合并方式') as HTMLSelectElement).value).toBe('rebase');
    expect(field('启用自动审批(测试通过且改动低风险时自动批准)').checked).toBe(true);
    expect(field('最多改动行数').value).toBe('30');
    expect(field('允许的路径').value).toBe('src/, docs/');
    expect(field('邮件收件人').value).toBe('lead@example.com');
    expect(field('钉钉加签密钥').value).toBe('SECabc');
    expect(field('PR 已合并').checked).toBe(true);

    fireEvent.input(field('指定审批人'), { target: { value: 'alice, carol ,' } });
    fireEvent.change(screen.getByLabelText('合并方式'), { target: { value: 'squash' } });
    fireEvent.input(field('最多改动行数'), { target: { value: '12' } });
    fireEvent.input(field('允许的路径'), { target: { value: 'src/\napp/views/' } });
    fireEvent.click(field('自动批准后直接合并'));
    fireEvent.input(field('邮件收件人'), { target: { value: 'lead@example.com, qa@example.com' } });
    fireEvent.input(field('企业微信机器人 Webhook 地址'), {
      target: { value: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k' },
    });
    fireEvent.input(field('钉钉加签密钥'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: '保存' }));
    await settle();

    expect(puts()).toHaveLength(1);
    expect(puts()[0]!.body).toMatchObject({
      alert_settings: {
        email_recipients: ['lead@example.com', 'qa@example.com'],
        dingtalk_webhook_url: 'https://oapi.dingtalk.com/robot/send?access_token=abc',
        dingtalk_secret: null,
        wecom_webhook_url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
        events: { merged: true },
      },
      review_settings: {
        reviewers: ['alice', 'carol'],
        merge_style: 'squash',
        auto_approve: {
          enabled: true,
          max_changed_lines: 12,
          allowed_paths: ['src/', 'app/views/'],
          merge: true,
        },
      },
    });
    expect(screen.getByRole('status').textContent).toBe('已保存');
  });

  it('refuses bad addresses, user names and line counts before sending', async () => {
    fireEvent.input(field('邮件收件人'), { target: { value: 'lead@example.com, not-an-address' } });
    fireEvent.input(field('指定审批人'), { target: { value: 'alice; drop table' } });
    fireEvent.input(field('最多改动行数'), { target: { value: '-3' } });
    fireEvent.input(field('钉钉机器人 Webhook 地址'), { target: { value: 'ftp://oapi.dingtalk.com/robot' } });
    fireEvent.click(screen.getByRole('button', { name: '保存' }));
    await settle();
    expect(puts()).toEqual([]);
    expect(screen.getByText('请输入有效的邮件地址,多个用逗号分隔。')).toBeTruthy();
    expect(screen.getByText('Gitea 用户名只能包含字母、数字、_ . -。')).toBeTruthy();
    expect(screen.getByText('请输入非负整数。')).toBeTruthy();
    expect(screen.getByText('请输入 http:// 或 https:// 开头的地址。')).toBeTruthy();
  });
});
