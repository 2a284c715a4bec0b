/**
 * The real @sentry/browser SDK, bundled with esbuild into a page served from one origin, in
 * Chromium, reporting uncaught errors to a real Log Center on another origin with the DSN the
 * project API hands out. CORS is proven from inside the page: the SDK's transport records the
 * status it could read, which a browser hides when the answer lacks CORS headers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { bugOfType, bugsOf, SdkContext, sentryProject } from './fixtures/log-center';

let lc: LogCenterHandle;
let site: Server;
let siteUrl: string;
let browser: Browser;
let bundle: string;
const BUNDLE_PATH = '/assets/shop.js';

beforeAll(async () => {
  lc = await startLogCenter();
  const built = await build({
    entryPoints: [join(import.meta.dirname, 'fixtures', 'browser-page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  bundle = built.outputFiles[0]!.text;
  site = createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === BUNDLE_PATH) {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    } else {
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<!doctype html><title>shop</title><link rel="icon" href="data:,"><body><script src="${BUNDLE_PATH}"></script>`,
        );
    }
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  expect(new URL(siteUrl).origin).not.toBe(new URL(lc.url).origin);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => site?.close(r));
  await lc?.stop();
});

/** 1-based line of the bundle holding `text` (esbuild drops comments, so no markers). */
function bundleLine(text: string): number {
  const index = bundle.split('\n').findIndex((l) => l.includes(text));
  if (index < 0) throw new Error(`${text} is not in the bundle`);
  return index + 1;
}

interface Answer {
  items: string[];
  status?: number;
  error?: string;
}

interface Visit {
  page: Page;
  project: string;
  /** Console errors other than the page's own uncaught error. */
  consoleErrors: string[];
  failedRequests: string[];
  /** Content-Type of each request the page sent Log Center. */
  contentTypes: (string | undefined)[];
  /** Access-Control-Allow-Origin of each answer Log Center gave the page. */
  allowOrigins: (string | undefined)[];
  /** Waits for the SDK to have sent an event; answers what its transport read of every answer. */
  eventSent: () => Promise<Answer[]>;
}

async function visit(query: Record<string, string>, expectedUncaught: RegExp): Promise<Visit> {
  const project = uniqueProject('sdk_web');
  const { sentry_dsn } = await sentryProject(lc, project);
  const page = await (await browser.newContext()).newPage();
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];
  const allowOrigins: (string | undefined)[] = [];
  const contentTypes: (string | undefined)[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(lc.url)) contentTypes.push(request.headers()['content-type']);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && !expectedUncaught.test(message.text()))
      consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => {
    if (!expectedUncaught.test(String(error))) consoleErrors.push(String(error));
  });
  page.on('requestfailed', (request) =>
    failedRequests.push(`${request.url()} ${request.failure()?.errorText}`),
  );
  page.on('response', (response) => {
    if (response.url().startsWith(lc.url))
      allowOrigins.push(response.headers()['access-control-allow-origin']);
  });
  await page.goto(`${siteUrl}/?${new URLSearchParams({ dsn: sentry_dsn, ...query })}`);
  return {
    page,
    project,
    consoleErrors,
    failedRequests,
    contentTypes,
    allowOrigins,
    async eventSent() {
      const read = () =>
        page.evaluate(() => (window as unknown as { sentryAnswers: Answer[] }).sentryAnswers);
      await expect
        .poll(async () => (await read()).some((a) => a.items.includes('event')), { timeout: 10_000 })
        .toBe(true);
      return read();
    },
  };
}

describe('@sentry/browser in Chromium, page and Log Center on different origins', () => {
  it('stores an uncaught error, sent as a CORS simple request the page may read', async () => {
    const shop = await visit({}, /cart total is NaN/);
    const answers = await shop.eventSent();
    // Every envelope (the event, and the session ones) answered 200, readable across origins.
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(answers.filter((a) => a.items.includes('event'))).toHaveLength(1);
    expect(shop.consoleErrors).toEqual([]);
    expect(shop.failedRequests).toEqual([]);
    expect(shop.allowOrigins).toEqual(answers.map(() => '*'));
    expect(new Set(shop.contentTypes)).toEqual(new Set(['text/plain;charset=UTF-8']));

    const bug = await bugOfType(lc, shop.project, 'TypeError');
    expect(bug).toMatchObject({
      source: 'runtime',
      level: 'ERROR',
      environment: 'e2e-browser',
      version: 'shop-web@2.4.1',
      commit_hash: null,
      error: {
        message: 'cart total is NaN',
        // The frame's URL is kept as its path.
        file_path: BUNDLE_PATH,
        line_number: bundleLine('throw new TypeError(`cart total is'),
      },
    });
    expect(bug.error.stack_trace[0]).toBe('TypeError: cart total is NaN');
    expect(bug.error.stack_trace[1]).toMatch(
      new RegExp(`^ {2}at renderCart \\(${siteUrl}${BUNDLE_PATH}:${bug.error.line_number}:\\d+\\)$`),
    );
    expect(SdkContext.parse(bug.context)).toMatchObject({
      platform: 'javascript',
      sdk: { name: 'sentry.javascript.browser' },
    });
    expect(bug.context).toMatchObject({ request: { url: expect.stringContaining(`${siteUrl}/?dsn=`) } });
    await shop.page.context().close();
  });

  it('stores an error thrown by a click handler when the transport needs a CORS preflight', async () => {
    const shop = await visit({ preflight: '1', scenario: 'click' }, /payment amount out of range/);
    await shop.page.click('#pay');
    const answers = await shop.eventSent();
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(new Set(shop.contentTypes)).toEqual(new Set(['application/x-sentry-envelope']));
    expect(shop.consoleErrors).toEqual([]);
    expect(shop.failedRequests).toEqual([]);

    const bug = await bugOfType(lc, shop.project, 'RangeError');
    expect(bug).toMatchObject({
      error: {
        message: 'payment amount out of range',
        file_path: BUNDLE_PATH,
        line_number: bundleLine('payment amount out of range'),
      },
    });
    expect(await bugsOf(lc, shop.project)).toHaveLength(1);
    await shop.page.context().close();
  });
});
