import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { cicdReport, deploymentReport, runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { type BundleSize, buildDashboard, DIST, serveStatic } from './build';
import { bundleReport } from './bundle';

const MARKUP = `<img src=x onerror="window.__xss='img'"><script>window.__xss='script'</script>`;
const DIFF = `diff --git a/apps/users/views.py b/apps/users/views.py
--- a/apps/users/views.py
+++ b/apps/users/views.py
@@ -40,3 +40,5 @@ def get_user(request, user_id):
 def get_user(request, user_id):
-    uid = int(user_id)
+    if not user_id.isdigit():
+        raise Http404()
+    uid = int(user_id)
     return User.objects.get(id=uid)
`;

const project = uniqueProject('dash');
const hostile = uniqueProject('xss');
const ids = { runtime: 0, review: 0, cicd: 0, deployment: 0, xss: 0 };

let lc: LogCenterHandle;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let pages: { url: string; server: Server };
let pagesDir: string;
/** Script errors and console errors on the signed-in page, from any test. */
const pageErrors: string[] = [];

async function reportId(body: unknown): Promise<number> {
  const res = await lc.report(body);
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: number }).id;
}

async function seed() {
  // A fix waiting for review: claimed by the agent, reported on, PR opened.
  ids.review = await reportId(
    runtimeReport(project, {
      error: {
        type: 'TypeError',
        message: "'NoneType' object is not iterable",
        file_path: 'apps/users/views.py',
        line_number: 24,
        stack_trace: ['Traceback (most recent call last):', '  File "apps/users/views.py", line 24'],
      },
    }),
  );
  const claim = await lc.api('/api/v1/tasks/claim', {
    method: 'POST',
    body: JSON.stringify({ agent_id: 'agent-e2e', project_id: project, source: 'runtime' }),
  });
  expect(((await claim.json()) as { items: { id: number }[] }).items.map((b) => b.id)).toEqual([ids.review]);
  const prUrl = `https://gitea.example.com/team/${project}/pulls/45`;
  await lc.api(`/api/v1/bugs/${ids.review}/repair-reports`, {
    method: 'POST',
    body: JSON.stringify({
      agent_id: 'agent-e2e',
      analysis: 'user_id may hold letters; answer 404 instead of crashing',
      modified_files: ['apps/users/views.py'],
      diff: DIFF,
      test_passed: true,
      test_output: '2 passed in 0.31s',
      branch_name: 'fix/auto-20260225-1430',
      pr_number: 45,
      pr_url: prUrl,
    }),
  });
  await lc.api(`/api/v1/bugs/${ids.review}/pr-info`, {
    method: 'PUT',
    body: JSON.stringify({ pr_number: 45, pr_url: prUrl, branch_name: 'fix/auto-20260225-1430' }),
  });
  const review = await lc.api(`/api/v1/bugs/${ids.review}/status`, {
    method: 'PUT',
    body: JSON.stringify({ status: 'PENDING_REVIEW', actor: 'agent-e2e' }),
  });
  expect(review.status).toBe(200);

  ids.runtime = await reportId(runtimeReport(project));
  ids.cicd = await reportId(cicdReport(project));
  ids.deployment = await reportId(deploymentReport(project));
  ids.xss = await reportId(
    cicdReport(hostile, {
      error: {
        type: `Build${MARKUP}`,
        message: `step failed ${MARKUP}`,
        stack_trace: [MARKUP, '<a href="javascript:window.__xss=\'link\'">click</a>'],
      },
      context: {
        job_name: MARKUP,
        step_name: 'build',
        workflow: '<svg onload="window.__xss=\'svg\'">',
        run_url: "javascript:window.__xss='run'",
        html: MARKUP,
      },
    }),
  );
  // The agent's report is not URL-checked by the API, so a hostile PR link must be caught here.
  await lc.api(`/api/v1/bugs/${ids.xss}/repair-reports`, {
    method: 'POST',
    body: JSON.stringify({
      analysis: MARKUP,
      modified_files: [MARKUP],
      diff: `--- a/x\n+++ b/x\n@@ -1 +1 @@\n-${MARKUP}\n+${MARKUP}\n`,
      pr_number: 1,
      pr_url: "javascript:window.__xss='pr'",
    }),
  });
}

async function api<T>(path: string): Promise<T> {
  return (await (await lc.api(path)).json()) as T;
}

const rowIds = (p: Page, scope = 'body') =>
  p.$$eval(`${scope} tr[data-bug-id]`, (rows) => rows.map((r) => Number(r.getAttribute('data-bug-id'))));

describe('dashboard in Chromium', () => {
  beforeAll(async () => {
    buildDashboard();
    // A Pages-style deployment: the dashboard on its own origin, allowed by CORS_ORIGINS.
    pagesDir = mkdtempSync(join(tmpdir(), 'log-center-pages-'));
    pages = await serveStatic(pagesDir);
    lc = await startLogCenter({ env: { CORS_ORIGINS: pages.url } });
    buildDashboard({ outDir: pagesDir, apiBase: lc.url });
    await seed();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => pages?.server.close(done));
    await lc?.stop();
    if (pagesDir) rmSync(pagesDir, { recursive: true, force: true });
  });

  it('shows only the login form without a valid token', async () => {
    const stranger = await browser.newContext({ locale: 'zh-CN' });
    const p = await stranger.newPage();
    await p.goto(`${lc.url}/bugs/${ids.runtime}`);
    await p.getByRole('heading', { name: '登录 Log Center' }).waitFor();
    expect(await p.locator('tr[data-bug-id], [data-testid="error-message"]').count()).toBe(0);

    const refused = p.waitForResponse((r) => r.url().endsWith('/api/v1/projects'));
    await p.getByLabel('API 令牌').fill('not-the-token');
    await p.getByRole('button', { name: '登录' }).click();
    expect((await refused).status()).toBe(401);
    await p.getByText('令牌无效,请检查后重试。').waitFor();
    expect(await p.locator('tr[data-bug-id]').count()).toBe(0);
    await stranger.close();
  });

  it('logs in through the link the server prints and shows the board', async () => {
    await page.goto(`${lc.url}/?token=${encodeURIComponent(lc.token)}`);
    await page.getByRole('heading', { name: 'Bug 自动修复看板' }).waitFor();
    expect(page.url()).toBe(`${lc.url}/`);
    expect(await page.evaluate(() => localStorage.getItem('log-center.token'))).toBe(lc.token);
  });

  it("puts bugs waiting for review on top and counts today's bugs", async () => {
    await page.goto(`${lc.url}/?project=${project}`);
    const needsAction = page.getByRole('region', { name: /需要你的操作/ });
    await needsAction.locator(`tr[data-bug-id="${ids.review}"]`).waitFor();
    expect(await rowIds(page, 'section.attention')).toEqual([ids.review]);
    expect((await rowIds(page, '#bug-list + table')).sort()).toEqual(
      [ids.runtime, ids.cicd, ids.deployment].sort(),
    );

    const stats = await api<{ today: { new: number; by_status: Record<string, number> } }>(
      `/api/v1/dashboard/stats?days=1&project_id=${project}`,
    );
    const card = (status: string) => page.locator(`[data-status="${status}"] .card-value`).textContent();
    expect(await card('NEW')).toBe(String(stats.today.new));
    expect(await card('PENDING_REVIEW')).toBe(String(stats.today.by_status.PENDING_REVIEW));
    expect(stats.today.by_status.PENDING_REVIEW).toBe(1);

    // Source and level badges with a relative time on each row.
    const deployment = page.locator(`tr[data-bug-id="${ids.deployment}"]`);
    expect(await deployment.locator('.source').textContent()).toBe('部署');
    expect(await deployment.locator('.level').textContent()).toBe('CRITICAL');
    expect(await deployment.locator('time').textContent()).toMatch(/秒|分钟|现在/);
  });

  it('filters by source in the URL, and the back button restores the list', async () => {
    await page.goto(`${lc.url}/?project=${project}`);
    await page.locator(`tr[data-bug-id="${ids.cicd}"]`).waitFor();
    await page.getByRole('navigation', { name: '来源' }).getByRole('link', { name: 'CI/CD' }).click();
    await page.waitForURL(/source=cicd/);
    await expect.poll(() => rowIds(page)).toEqual([ids.cicd]);

    await page.goBack();
    await page.waitForURL((url) => !url.search.includes('source='));
    await expect.poll(async () => (await rowIds(page)).length).toBe(4);
  });

  it('opens a CI/CD bug from the board with its CI details and no way to hand it to the agent', async () => {
    await page.goto(`${lc.url}/?project=${project}&source=cicd`);
    await page.locator(`tr[data-bug-id="${ids.cicd}"] a.bug-link`).click();
    await page.waitForURL(`${lc.url}/bugs/${ids.cicd}`);
    const ci = page.getByRole('region', { name: /CI\/CD 详情/ });
    await ci.getByText('Build and Deploy').waitFor();
    await ci.getByText('build-and-deploy').waitFor();
    const run = ci.getByRole('link', { name: /#24/ });
    expect(await run.getAttribute('href')).toBe('https://gitea.airlabs.art/zyc/rtc_backend/actions/runs/24');
    const trigger = page.getByRole('button', { name: '触发修复' });
    expect(await trigger.isDisabled()).toBe(true);
    expect(await page.locator('#trigger-fix-hint').textContent()).toContain('只处理运行时错误');
  });

  it('shows pod details for a deployment bug', async () => {
    await page.goto(`${lc.url}/bugs/${ids.deployment}`);
    const pod = page.getByRole('region', { name: /Pod 详情/ });
    await pod.getByText('rtc-backend-xxx-yyy').waitFor();
    expect(await pod.textContent()).toContain('重启次数5');
  });

  it('shows the repair report, the PR card and the diff of a bug in review', async () => {
    await page.goto(`${lc.url}/bugs/${ids.review}`);
    await page.getByText('user_id may hold letters; answer 404 instead of crashing').waitFor();
    const review = page.getByRole('link', { name: /前往 Gitea 审核 PR/ });
    expect(await review.getAttribute('href')).toBe(`https://gitea.example.com/team/${project}/pulls/45`);
    expect(await review.getAttribute('target')).toBe('_blank');
    expect(await page.getByRole('region', { name: /修复报告/ }).textContent()).toContain('(+3, -1)');
    expect(await page.locator('.diff-line.add').count()).toBe(3);
    expect(await page.locator('.diff-line.del .code').textContent()).toBe('    uid = int(user_id)');
  });

  it('changes a status from the detail page and records it', async () => {
    await page.goto(`${lc.url}/bugs/${ids.runtime}`);
    await page.getByLabel('备注').fill('known flaky input, not worth a fix');
    await page.getByRole('button', { name: '标记失败' }).click();
    await page.getByText('已标记为失败。').waitFor();
    await page.getByTestId('history').getByText('known flaky input, not worth a fix').waitFor();
    expect((await api<{ status: string }>(`/api/v1/bugs/${ids.runtime}`)).status).toBe('FAILED');

    await page.getByRole('button', { name: '触发修复' }).click();
    await page.getByText(/已触发修复/).waitFor();
    const bug = await api<{ status: string; history: { to_status: string; actor: string }[] }>(
      `/api/v1/bugs/${ids.runtime}`,
    );
    expect(bug.status).toBe('NEW');
    expect(bug.history.map((h) => h.to_status)).toEqual(['NEW', 'FAILED', 'NEW']);
  });

  it('opens the stats and draws the trend chart', async () => {
    await page.goto(`${lc.url}/`);
    await page.getByRole('navigation', { name: '主导航' }).getByRole('link', { name: '统计' }).click();
    await page.waitForURL(`${lc.url}/stats`);
    const chart = page.getByTestId('trend-chart');
    await chart.locator('canvas').waitFor();
    const box = await chart.locator('canvas').boundingBox();
    expect(box!.width).toBeGreaterThan(200);
    expect(await chart.locator('.u-legend').textContent()).toMatch(/新发现.*自动修复.*修复失败/);

    await page.getByLabel('时间范围').selectOption('30');
    await page.waitForURL(/days=30/);
    await expect.poll(() => page.locator('.trend-chart canvas').count()).toBe(1);
  });

  it('keeps markup from a report inert on the board and on the detail page', async () => {
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${lc.url}/?project=${hostile}`);
    await page.locator(`tr[data-bug-id="${ids.xss}"]`).waitFor();
    expect(await page.locator(`tr[data-bug-id="${ids.xss}"]`).textContent()).toContain(`Build${MARKUP}`);

    await page.goto(`${lc.url}/bugs/${ids.xss}`);
    await page.getByTestId('error-message').waitFor();
    expect(await page.getByTestId('error-message').textContent()).toContain(MARKUP);
    expect(await page.getByTestId('stack-trace').textContent()).toContain(MARKUP);
    expect(await page.getByTestId('context').textContent()).toContain('<svg onload=');
    expect(await page.getByRole('region', { name: /CI\/CD 详情/ }).textContent()).toContain(MARKUP);

    // Nothing from the report became an element or a script-bearing link.
    expect(await page.locator('main img, main svg, main iframe, main script').count()).toBe(0);
    const hrefs = await page.$$eval('a[href]', (links) => links.map((a) => a.getAttribute('href') ?? ''));
    expect(hrefs.filter((h) => /^\s*javascript:/i.test(h))).toEqual([]);
    await page.getByText("javascript:window.__xss='run'", { exact: true }).waitFor();
    await page.getByText("javascript:window.__xss='pr'", { exact: true }).waitFor();

    // Clicking everything clickable in the report runs nothing either.
    for (const summary of await page.locator('summary').all()) await summary.click();
    expect(await page.evaluate(() => (window as { __xss?: string }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
  });

  it('works from another origin when built with VITE_API_BASE_URL (Cloudflare Pages)', async () => {
    const remote = await browser.newContext({ locale: 'zh-CN' });
    const p = await remote.newPage();
    const apiCalls: string[] = [];
    p.on('request', (req) => {
      if (req.url().includes('/api/')) apiCalls.push(req.url());
    });
    await p.goto(`${pages.url}/?token=${encodeURIComponent(lc.token)}&project=${project}`);
    await p.locator(`tr[data-bug-id="${ids.cicd}"]`).waitFor();
    expect(p.url()).toBe(`${pages.url}/?project=${project}`);
    expect(apiCalls.length).toBeGreaterThan(0);
    expect(apiCalls.every((url) => url.startsWith(`${lc.url}/api/`))).toBe(true);

    // A deep link works too: the host falls back to the app shell.
    await p.goto(`${pages.url}/bugs/${ids.deployment}`);
    await p.getByRole('region', { name: /Pod 详情/ }).waitFor();
    await remote.close();
  });

  it('ran every page above without a script error or a blocked resource', () => {
    // Content-Security-Policy violations and uncaught errors both land here.
    expect(pageErrors).toEqual([]);
  });

  it('keeps the first load within 60 KB gzip and every lazy chunk within 30 KB', () => {
    // The first load is index.html, what it names, and every static import after that; pages
    // not needed at first paint (stats with uPlot, projects, project settings, the review
    // panel, the message list, English) are chunks fetched when first shown.
    const { initial, lazy, initialGzip } = bundleReport(DIST);
    const line = (f: BundleSize) => `  ${f.file}: ${f.bytes} B, ${f.gzip} B gzip`;
    console.log(
      `dashboard first load: ${(initialGzip / 1024).toFixed(1)} KiB gzip\n${initial.map(line).join('\n')}\n` +
        `lazy chunks:\n${lazy.map(line).join('\n')}`,
    );
    expect(initialGzip).toBeLessThan(60 * 1024);
    for (const chunk of lazy) expect(chunk.gzip, chunk.file).toBeLessThan(30 * 1024);
    // uPlot and the review cockpit stay out of the first load.
    expect(initial.some((f) => /trend-plot|BugReview|ProjectEditPage|MessageList/.test(f.file))).toBe(false);
    expect(lazy.some((f) => /trend-plot-.*\.js$/.test(f.file))).toBe(true);
  });
});
