import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { type GiteaStub, startGiteaStub } from '../helpers/gitea-stub';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import {
  bugDetail,
  callsFor,
  type PendingBug,
  pendingBug,
  type ReviewSuite,
  WEBHOOK_SECRET,
} from '../review/support';
import { buildDashboard } from './build';

/**
 * The review cockpit in real Chromium against a real Log Center (Node server on a libSQL file,
 * serving the built dashboard) and the Gitea stand-in of test/helpers/gitea-stub.ts, which
 * speaks Gitea's review, merge and close API with its status codes and sends signed webhooks
 * back to Log Center as Gitea does (a real Gitea cannot run here).
 */

let gitea: GiteaStub;
let lc: LogCenterHandle;
let dashboardDir: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const suite = {} as ReviewSuite;
const pageErrors: string[] = [];

async function statusOf(id: number) {
  return (await bugDetail(lc, id)).status;
}

describe('review cockpit in Chromium', () => {
  beforeAll(async () => {
    dashboardDir = mkdtempSync(join(tmpdir(), 'log-center-review-dash-'));
    buildDashboard({ outDir: dashboardDir });
    gitea = await startGiteaStub();
    lc = await startLogCenter({
      dashboardDir,
      env: {
        GITEA_URL: gitea.url,
        GITEA_TOKEN: gitea.token,
        GITEA_WEBHOOK_SECRET: WEBHOOK_SECRET,
        // The stub listens on loopback, which the outbound guard refuses unless told.
        ALERT_ALLOW_PRIVATE_TARGETS: 'true',
      },
    });
    gitea.setWebhook(`${lc.url}/api/v1/webhooks/gitea`, WEBHOOK_SECRET);
    suite.lc = lc;
    suite.gitea = gitea;

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${lc.url}/?token=${encodeURIComponent(lc.token)}`);
    await page.getByRole('heading', { name: 'Bug 自动修复看板' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await gitea?.close();
    await lc?.stop();
    if (dashboardDir) rmSync(dashboardDir, { recursive: true, force: true });
  });

  const confirmIn = async (scope: ReturnType<Page['getByRole']>, action: string) => {
    await scope.getByRole('button', { name: action, exact: true }).click();
    const dialog = scope.getByRole('alertdialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: '确认' }).click();
  };

  it("approves and merges from the bug page with the project's merge style; the webhook shows MERGED", async () => {
    const bug = await pendingBug(suite, { project: { review_settings: { merge_style: 'squash' } } });
    await page.goto(`${lc.url}/bugs/${bug.id}`);
    const panel = page.getByRole('region', { name: /PR 审核/ });
    await panel.getByLabel('审核意见').fill('LGTM, merged from the cockpit');
    expect(await panel.getByLabel('合并方式').inputValue()).toBe('squash');
    await confirmIn(panel, '批准并合并');

    // Gitea's merge webhook moves the bug; the page follows it without a reload.
    await page
      .getByRole('region', { name: /基本信息/ })
      .getByText('已合并')
      .waitFor({ timeout: 15_000 });
    expect(await statusOf(bug.id)).toBe('MERGED');
    const seen = callsFor(gitea, bug);
    expect(seen).toContain(`POST /pulls/${bug.pr}/reviews`);
    expect(seen).toContain(`POST /pulls/${bug.pr}/merge`);
    const reviewCall = gitea.calls.find((c) => c.path.endsWith(`/${bug.repo}/pulls/${bug.pr}/reviews`))!;
    expect(reviewCall.body).toMatchObject({ event: 'APPROVED', body: 'LGTM, merged from the cockpit' });
    const mergeCall = gitea.calls.find((c) => c.path.endsWith(`/${bug.repo}/pulls/${bug.pr}/merge`))!;
    expect(mergeCall.body).toMatchObject({ Do: 'squash' });
    expect(gitea.pull(bug.owner, bug.repo, bug.pr)!.merged).toBe(true);

    // The person's action is in the activity, told apart from Gitea's own review webhook.
    const activity = page.getByTestId('activity');
    await activity
      .locator('[data-actor="person"]', { hasText: 'LGTM, merged from the cockpit' })
      .first()
      .waitFor();
    expect(await page.getByRole('region', { name: /^✅ PR 审核/ }).count()).toBe(0);
  });

  it('requests changes with a note: the bug goes back to FIXING and the activity shows the review', async () => {
    const bug = await pendingBug(suite);
    await page.goto(`${lc.url}/bugs/${bug.id}`);
    const panel = page.getByRole('region', { name: /PR 审核/ });
    // A rejection without a note is refused on the page; nothing reaches Gitea.
    await panel.getByRole('button', { name: '要求修改' }).click();
    await panel.getByText('“要求修改”需要写明审核意见。').waitFor();
    expect(callsFor(gitea, bug).filter((c) => c.includes('/reviews'))).toEqual([]);

    await panel.getByLabel('审核意见').fill('Also handle an empty cart <b>please</b>');
    await confirmIn(panel, '要求修改');
    await page
      .getByRole('region', { name: /基本信息/ })
      .getByText('修复中')
      .waitFor({ timeout: 15_000 });
    expect(await statusOf(bug.id)).toBe('FIXING');
    const rejected = gitea.calls.find((c) => c.path.endsWith(`/${bug.repo}/pulls/${bug.pr}/reviews`))!;
    expect(rejected.body).toMatchObject({
      event: 'REQUEST_CHANGES',
      body: 'Also handle an empty cart <b>please</b>',
    });

    const activity = page.getByTestId('activity');
    await activity.locator('[data-kind="review_changes_requested"][data-actor="person"]').waitFor();
    // Gitea's review webhook came back and is shown as Gitea's, with the note as text.
    await activity.locator('[data-kind="gitea_review"][data-actor="gitea"]').first().waitFor();
    expect(await activity.textContent()).toContain('Also handle an empty cart <b>please</b>');
    expect(await activity.locator('b').count()).toBe(0);

    // A comment on the PR in Gitea comes back through issue_comment and shows as Gitea's.
    await gitea.comment(bug.owner, bug.repo, bug.pr, {
      login: 'alice',
      body: 'see the null check on line 2',
    });
    await gitea.settled();
    await page.reload();
    const comment = page.getByTestId('activity').locator('[data-kind="gitea_comment"][data-actor="gitea"]', {
      hasText: 'see the null check on line 2',
    });
    await comment.waitFor();
    expect(await comment.textContent()).toContain('Gitea · alice');
    expect(await page.getByRole('region', { name: /审核动态\(PR 评论同步\)/ }).count()).toBe(1);
  });

  it("shows Gitea's reason when Gitea refuses the merge (405), and the bug stays in review", async () => {
    const bug = await pendingBug(suite, { pull: { mergeable: false } });
    await page.goto(`${lc.url}/bugs/${bug.id}`);
    const panel = page.getByRole('region', { name: /PR 审核/ });
    await panel.getByLabel('审核意见').fill('try to merge');
    await confirmIn(panel, '批准并合并');
    const error = page.getByTestId('review-error');
    await error.waitFor();
    const text = (await error.textContent()) ?? '';
    expect(text).toMatch(/^Gitea 拒绝了这个操作,缺陷没有任何变化: Gitea refused the merge \(405\): \S/);
    expect(text).not.toContain(gitea.token);
    expect(await statusOf(bug.id)).toBe('PENDING_REVIEW');
    expect(gitea.pull(bug.owner, bug.repo, bug.pr)!.merged).toBe(false);
    // The panel and the note stay, to try again; the bug page still says it waits for review.
    expect(await panel.getByLabel('审核意见').inputValue()).toBe('try to merge');
    expect(await page.getByRole('region', { name: /基本信息/ }).textContent()).toContain('待审核');
  });

  it('batch review on the board: three bugs, one conflicts (409), one result per bug', async () => {
    const project = uniqueProject('batch');
    const first = await pendingBug(suite, { project_id: project, line: 1 });
    const conflicted = await pendingBug(suite, { project_id: project, line: 2, pull: { conflict: true } });
    const last = await pendingBug(suite, { project_id: project, line: 3 });
    const all: PendingBug[] = [first, conflicted, last];

    await page.goto(`${lc.url}/?project=${project}&status=PENDING_REVIEW`);
    for (const bug of all) await page.getByLabel(`选择缺陷 #${bug.id}`).waitFor();
    await page.getByLabel('全选本页待审核缺陷').check();
    const bar = page.getByRole('region', { name: '已选 3 个待审核缺陷' });
    await confirmIn(bar, '批量批准并合并');

    const results = page.getByTestId('batch-results');
    await results.waitFor();
    const row = (bug: PendingBug) => results.locator(`[data-bug-id="${bug.id}"]`);
    expect(await row(first).textContent()).toContain('成功');
    expect(await row(last).textContent()).toContain('成功');
    expect(await row(conflicted).textContent()).toMatch(/失败.*Gitea refused the merge \(409\)/);
    await gitea.settled();
    expect(await statusOf(first.id)).toBe('MERGED');
    expect(await statusOf(last.id)).toBe('MERGED');
    expect(await statusOf(conflicted.id)).toBe('PENDING_REVIEW');
    // The board reloads: the conflicting bug still waits and stays ticked for another try.
    await expect.poll(() => page.locator('tr[data-bug-id]').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByLabel(`选择缺陷 #${conflicted.id}`).isChecked()).toBe(true);
  });

  it('message centre: the unread count drops to nothing after mark all read', async () => {
    const before = (await (await lc.api('/api/v1/notifications?unread=true')).json()) as {
      unread_count: number;
    };
    expect(before.unread_count).toBeGreaterThan(0);
    await page.goto(`${lc.url}/`);
    const button = page.getByRole('button', { name: /消息中心/ });
    await expect.poll(() => button.getAttribute('aria-label')).toBe(`消息中心,${before.unread_count} 条未读`);
    expect(await page.getByTestId('unread-count').textContent()).toBe(
      before.unread_count > 99 ? '99+' : String(before.unread_count),
    );
    await button.click();
    const panel = page.getByRole('region', { name: '消息中心' });
    await panel.locator('li.unread').first().waitFor();
    await panel.getByRole('button', { name: '全部标为已读' }).click();
    await expect.poll(() => button.getAttribute('aria-label')).toBe('消息中心');
    expect(await page.getByTestId('unread-count').count()).toBe(0);
    expect(await panel.locator('li.unread').count()).toBe(0);
    const after = (await (await lc.api('/api/v1/notifications?unread=true')).json()) as {
      unread_count: number;
    };
    expect(after.unread_count).toBe(0);
  });

  it('saves reviewers, merge style, the auto-approval policy and team notifications from the project page', async () => {
    const project = uniqueProject('settings');
    expect((await lc.api(`/api/v1/projects/${project}`, { method: 'PUT', body: '{}' })).status).toBe(200);
    await page.goto(`${lc.url}/projects/${project}`);
    await page.getByLabel('指定审批人').fill('alice, bob');
    await page.getByLabel('合并方式').selectOption('rebase');
    await page.getByLabel('启用自动审批(测试通过且改动低风险时自动批准)').check();
    await page.getByLabel('最多改动行数').fill('15');
    await page.getByLabel('允许的路径').fill('src/\ndocs/');
    await page.getByLabel('邮件收件人').fill('lead@example.com, qa@example.com');
    await page
      .getByLabel('钉钉机器人 Webhook 地址')
      .fill('https://oapi.dingtalk.com/robot/send?access_token=t0k');
    await page.getByLabel('钉钉加签密钥').fill('SEC0123456789');
    await page
      .getByLabel('企业微信机器人 Webhook 地址')
      .fill('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y');
    await page.getByLabel('PR 已合并').check();
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByRole('status').getByText('已保存').waitFor();

    const saved = (await (await lc.api(`/api/v1/projects/${project}`)).json()) as {
      review_settings: unknown;
      alert_settings: Record<string, unknown>;
    };
    expect(saved.review_settings).toEqual({
      reviewers: ['alice', 'bob'],
      merge_style: 'rebase',
      auto_approve: { enabled: true, max_changed_lines: 15, allowed_paths: ['src/', 'docs/'], merge: false },
    });
    expect(saved.alert_settings).toMatchObject({
      email_recipients: ['lead@example.com', 'qa@example.com'],
      dingtalk_webhook_url: 'https://oapi.dingtalk.com/robot/send?access_token=t0k',
      wecom_webhook_url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y',
      events: { merged: true },
    });

    // Reloaded, the form shows what the server stored.
    await page.reload();
    expect(await page.getByLabel('指定审批人').inputValue()).toBe('alice, bob');
    expect(await page.getByLabel('合并方式').inputValue()).toBe('rebase');
    expect(await page.getByLabel('PR 已合并').isChecked()).toBe(true);
  });

  it('ran every page above without a script error or a blocked resource', () => {
    // Content-Security-Policy violations (the server sends the policy) and uncaught errors land
    // here. Chromium also logs the one answer that was meant to fail: the refused merge's 502.
    const refused = pageErrors.filter((e) => e.includes('status of 502'));
    expect(refused).toHaveLength(1);
    expect(pageErrors.filter((e) => !refused.includes(e))).toEqual([]);
  });
});
