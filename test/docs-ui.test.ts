import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardCsp } from '../functions/middleware/headers';
import { launchChromium } from './helpers/browser';
import { type LogCenterHandle, startLogCenter } from './helpers/server';

/**
 * /docs is served by Log Center itself: Swagger UI's files come from the swagger-ui-dist
 * package, so the page renders with every request to another host refused.
 */
let lc: LogCenterHandle;
let browser: Browser | undefined;

beforeAll(async () => {
  lc = await startLogCenter();
});

afterAll(async () => {
  await browser?.close();
  await lc?.stop();
});

describe('the /docs page as sent', () => {
  it('loads its script and styles from this server and has nothing inline', async () => {
    const res = await lc.fetch('/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<div id="swagger-ui"></div>');
    // Every <script> names a same-origin file and has no body; no <style>, no style="".
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attrs]) => attrs?.trim())).toEqual([
      'src="/docs/assets/swagger-ui-bundle.js"',
      'src="/docs/init.js"',
    ]);
    expect(scripts.every(([, , body]) => body === '')).toBe(true);
    expect(html).not.toMatch(/<style|style=|https?:\/\//);
  });

  it('serves the two Swagger UI files and nothing else from the package', async () => {
    const js = await lc.fetch('/docs/assets/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(await js.text()).toContain('SwaggerUIBundle');
    const css = await lc.fetch('/docs/assets/swagger-ui.css');
    expect(css.headers.get('content-type')).toContain('text/css');
    expect((await css.text()).length).toBeGreaterThan(100_000);
    for (const path of [
      '/docs/assets/package.json',
      '/docs/assets/..%2fpackage.json',
      '/docs/assets/index.html',
    ]) {
      const res = await lc.fetch(path);
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
  });
});

// A missing browser fails this suite rather than skipping it (helpers/browser.ts).
describe('the /docs page in Chromium, offline', () => {
  beforeAll(async () => {
    browser = await launchChromium();
  });

  /**
   * Opens /docs with every request that is not to this server refused, and (with `csp`) the page
   * sent under that policy. Returns what the page tried to fetch elsewhere and what it logged
   * about the policy or as an error.
   */
  async function openDocs(csp?: string): Promise<{ page: Page; external: string[]; problems: string[] }> {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const external: string[] = [];
    const problems: string[] = [];
    const origin = new URL(lc.url).origin;
    await page.route('**', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin !== origin) {
        external.push(url);
        return route.abort('blockedbyclient');
      }
      if (csp && new URL(url).pathname === '/docs') {
        const res = await route.fetch();
        return route.fulfill({
          response: res,
          headers: { ...res.headers(), 'content-security-policy': csp },
        });
      }
      return route.continue();
    });
    page.on('pageerror', (error) => problems.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) {
        problems.push(message.text());
      }
    });
    await page.goto(`${lc.url}/docs`);
    return { page, external, problems };
  }

  async function expectOperations(page: Page) {
    await page.getByText('/api/v1/logs/report', { exact: true }).first().waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('.opblock').count()).toBeGreaterThan(10);
    expect(await page.getByText('/api/v1/bugs', { exact: true }).first().isVisible()).toBe(true);
  }

  it('renders the API operations with no request leaving for another host', async () => {
    const { page, external, problems } = await openDocs();
    await expectOperations(page);
    expect(await page.title()).toBe('Log Center API');
    expect(external).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("renders under the dashboard's policy (script-src 'self', style-src 'self') without a violation", async () => {
    const csp = dashboardCsp();
    expect(csp).toContain("script-src 'self'");
    const { page, external, problems } = await openDocs(csp);
    await expectOperations(page);
    // An operation opens and shows its request body schema: the UI is live, not just painted.
    await page.locator('.opblock-summary', { hasText: '/api/v1/logs/report' }).first().click();
    await page.locator('.opblock-body').first().waitFor();
    expect(external).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
