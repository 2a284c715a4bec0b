import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { buildDashboard, serveStatic } from './build';

const LANG_KEY = 'log-center.lang';
const ZH_TITLE = '登录 Log Center';
const EN_TITLE = 'Sign in to Log Center';

let browser: Browser;
let site: { url: string; server: Server };
let dir: string;
const contexts: BrowserContext[] = [];

/** A fresh browser profile (empty localStorage) whose languages are `locale`, on the sign-in page. */
async function visit(locale: string): Promise<Page> {
  const context = await browser.newContext({ locale });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${site.url}/`);
  return page;
}

const heading = (page: Page, name: string) => page.getByRole('heading', { name }).waitFor();

describe('dashboard language in Chromium', () => {
  beforeAll(async () => {
    // Its own build and static host, so it never races dashboard.e2e over dashboard/dist.
    dir = mkdtempSync(join(tmpdir(), 'log-center-lang-'));
    buildDashboard({ outDir: dir });
    site = await serveStatic(dir);
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => site?.server.close(done));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens in English for an English browser on a first visit', async () => {
    const page = await visit('en-US');
    expect(await page.evaluate(() => navigator.languages)).toEqual(['en-US']);
    await heading(page, EN_TITLE);
    expect(await page.getByLabel('API token').count()).toBe(1);
    expect(await page.locator('.app').getAttribute('lang')).toBe('en');
    await page.getByRole('button', { name: '中文' }).waitFor();
    // Following the browser is not a choice the visitor made: nothing is remembered.
    expect(await page.evaluate((key) => localStorage.getItem(key), LANG_KEY)).toBeNull();
  });

  it('opens in Chinese for a Chinese browser on a first visit', async () => {
    const page = await visit('zh-CN');
    await heading(page, ZH_TITLE);
    expect(await page.getByLabel('API 令牌').count()).toBe(1);
    expect(await page.locator('.app').getAttribute('lang')).toBe('zh-CN');
    await page.getByRole('button', { name: 'English' }).waitFor();
  });

  it('remembers the toggle over an English browser across a reload', async () => {
    const page = await visit('en-US');
    await heading(page, EN_TITLE);
    await page.getByRole('button', { name: '中文' }).click();
    await heading(page, ZH_TITLE);
    expect(await page.evaluate((key) => localStorage.getItem(key), LANG_KEY)).toBe('zh');

    await page.reload();
    await heading(page, ZH_TITLE);
    expect(await page.getByRole('heading', { name: EN_TITLE }).count()).toBe(0);
  });

  it('remembers the toggle over a Chinese browser across a reload', async () => {
    const page = await visit('zh-CN');
    await heading(page, ZH_TITLE);
    await page.getByRole('button', { name: 'English' }).click();
    await heading(page, EN_TITLE);

    await page.reload();
    await heading(page, EN_TITLE);
    expect(await page.getByRole('heading', { name: ZH_TITLE }).count()).toBe(0);
  });
});
