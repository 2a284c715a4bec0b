import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { bugDetail, bugsOf, compileClient, lineOf, type StoredBug, waitFor } from './support';

const appSource = readFileSync(join(import.meta.dirname, 'fixtures', 'browser-app.js'), 'utf8');
const line = (marker: string) => lineOf(appSource, `// @${marker}`);

let lc: LogCenterHandle;
let browser: Browser;
let site: Server;
let siteUrl: string;
let buildDir: string;

beforeAll(async () => {
  lc = await startLogCenter();
  buildDir = mkdtempSync(join(tmpdir(), 'browser-reporter-'));
  const reporterJs = readFileSync(
    compileClient('clients/browser/index.ts', buildDir, 'log-center.js'),
    'utf8',
  );

  // The application's own origin: same host, another port, so every report is cross-origin.
  const files: Record<string, [string, string]> = {
    '/': [
      'text/html',
      '<!doctype html><title>shop</title><link rel="icon" href="data:,"><script type="module" src="/app.js"></script>',
    ],
    '/app.js': ['text/javascript', appSource],
    '/log-center.js': ['text/javascript', reporterJs],
  };
  site = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': file[0] }).end(file[1]);
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  expect(new URL(siteUrl).origin).not.toBe(new URL(lc.url).origin);

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => site?.close(r));
  await lc?.stop();
  rmSync(buildDir, { recursive: true, force: true });
});

interface Shop {
  page: Page;
  project: string;
  /** Requests the page made to Log Center, by Chromium resource type ("ping" is a beacon). */
  transports: string[];
  consoleErrors: string[];
}

async function openShop(options: { dedupeMs?: number; withoutBeacon?: boolean } = {}): Promise<Shop> {
  const project = uniqueProject('web');
  const context = await browser.newContext();
  const page = await context.newPage();
  if (options.withoutBeacon) {
    await page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'sendBeacon', { value: undefined, configurable: true });
    });
  }
  const transports: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(lc.url)) transports.push(request.resourceType());
  });
  page.on('console', (message) => {
    // The page's own uncaught errors are expected on the console; anything else is not.
    if (message.type() === 'error' && !/Uncaught|sentinel/.test(message.text()))
      consoleErrors.push(message.text());
  });
  const query = new URLSearchParams({ lc: lc.url, project, dedupe: String(options.dedupeMs ?? 5000) });
  await page.goto(`${siteUrl}/?${query}`);
  await page.waitForFunction(() => 'scenarios' in window);
  return { page, project, transports, consoleErrors };
}

const play = (shop: Shop, scenario: string, arg?: unknown) =>
  shop.page.evaluate(
    ([name, value]) =>
      (window as unknown as { scenarios: Record<string, (v: unknown) => void> }).scenarios[name!]!(value),
    [scenario, arg] as const,
  );

async function bugWhere(project: string, match: (bug: StoredBug) => boolean): Promise<StoredBug> {
  return waitFor(async () => (await bugsOf(lc, project)).find(match));
}

describe('browser reporter in Chromium, page and Log Center on different origins', () => {
  it('reports a thrown error and a rejected promise with the file and line that raised them', async () => {
    const shop = await openShop();
    await play(shop, 'thrown');
    await play(shop, 'rejected');

    const thrown = await bugWhere(shop.project, (b) => b.error.type === 'TypeError');
    expect(thrown).toMatchObject({
      source: 'runtime',
      level: 'ERROR',
      environment: 'e2e',
      version: '1.4.2',
      error: { message: 'cart total is NaN', file_path: '/app.js', line_number: line('thrown') },
    });
    expect(thrown.error.stack_trace[0]).toBe('TypeError: cart total is NaN');
    expect(thrown.error.stack_trace[1]).toMatch(
      new RegExp(`at renderCart \\(${siteUrl}/app\\.js:${line('thrown')}:\\d+\\)`),
    );
    expect(thrown.context).toMatchObject({
      mechanism: 'onerror',
      url: expect.stringContaining(`${siteUrl}/?`),
      user_agent: expect.stringContaining('Chrome'),
      user_id: 'u_42',
    });

    const rejected = await bugWhere(shop.project, (b) => b.error.message === 'payment declined by gateway');
    expect(rejected).toMatchObject({
      error: { type: 'Error', file_path: '/app.js', line_number: line('rejected') },
      context: { mechanism: 'unhandledrejection' },
    });

    expect(shop.transports).toEqual(['ping', 'ping']);
    expect(shop.consoleErrors).toEqual([]);
    await shop.page.context().close();
  });

  it('reports a rejection with a non-Error reason against the page', async () => {
    const shop = await openShop();
    await play(shop, 'rejectedWithString');
    const bug = await bugWhere(shop.project, () => true);
    expect(bug.error).toMatchObject({
      type: 'Error',
      message: 'plain string reason',
      file_path: '/',
      line_number: 0,
      stack_trace: ['plain string reason'],
    });
    await shop.page.context().close();
  });

  it('reports a caught error passed to captureException, skipping the native frame', async () => {
    const shop = await openShop();
    await play(shop, 'caught');
    const bug = await bugWhere(shop.project, () => true);
    expect(bug).toMatchObject({
      error: { type: 'SyntaxError', file_path: '/app.js', line_number: line('caught') },
      context: { mechanism: 'manual', action: 'import settings' },
    });
    await shop.page.context().close();
  });

  it('sends an identical error once within the dedupe window and again after it', async () => {
    const shop = await openShop({ dedupeMs: 1500 });
    await play(shop, 'repeated', 5);
    await play(shop, 'sentinel', 'one');
    await bugWhere(shop.project, (b) => b.error.message === 'sentinel one');
    // Let any stray duplicate land before counting.
    await new Promise((r) => setTimeout(r, 500));

    const repeated = await bugWhere(shop.project, (b) => b.error.type === 'RangeError');
    expect(repeated.error.line_number).toBe(line('repeated'));
    expect(repeated.occurrence_count).toBe(1);

    await new Promise((r) => setTimeout(r, 1200));
    await play(shop, 'repeated', 1);
    const again = await waitFor(async () => {
      const bug = await bugDetail(lc, repeated.id);
      return bug.occurrence_count === 2 ? bug : undefined;
    });
    expect(again.occurrences).toHaveLength(2);
    await shop.page.context().close();
  });

  it('falls back to fetch with keepalive when sendBeacon is unavailable', async () => {
    const shop = await openShop({ withoutBeacon: true });
    await play(shop, 'thrown');
    const bug = await bugWhere(shop.project, () => true);
    expect(bug.error).toMatchObject({ type: 'TypeError', file_path: '/app.js', line_number: line('thrown') });
    expect(shop.transports).toEqual(['fetch']);
    // The fetch is read cross-origin: a CORS failure would show here.
    expect(shop.consoleErrors).toEqual([]);
    await shop.page.context().close();
  });

  it('still delivers a report whose context is too large for a beacon, without the context', async () => {
    const shop = await openShop();
    await shop.page.evaluate(() => {
      const { reporter } = window as unknown as {
        reporter: { captureException(e: unknown, c?: unknown): void };
      };
      reporter.captureException(new Error('export failed'), { rows: '行'.repeat(40_000) });
    });
    const bug = await bugWhere(shop.project, () => true);
    expect(bug.error.message).toBe('export failed');
    expect(bug.context).toMatchObject({ mechanism: 'manual', context_dropped: 'too large to send' });
    expect(bug.context.rows).toBeUndefined();
    expect(shop.transports).toEqual(['ping']);
    await shop.page.context().close();
  });

  it('never throws, whatever it is given', async () => {
    const shop = await openShop();
    const outcome = await shop.page.evaluate(() => {
      const { reporter } = window as unknown as {
        reporter: { captureException(e: unknown, c?: unknown): void };
      };
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const hostile = {
        get message(): string {
          throw new Error('getter exploded');
        },
      };
      const inputs = [null, undefined, 42, cyclic, hostile, Object.create(null), new Error('')];
      try {
        for (const input of inputs) reporter.captureException(input, cyclic);
        for (const input of inputs) reporter.captureException(input);
        return 'no exception';
      } catch (error) {
        return String(error);
      }
    });
    expect(outcome).toBe('no exception');
    // Everything but the object whose message getter throws is still reported (Log Center
    // groups these frameless values into one bug), and a context that cannot be serialised
    // costs the context, not the report.
    const [bug] = await waitFor(async () => {
      const bugs = await bugsOf(lc, shop.project);
      return bugs[0]?.occurrence_count === 6 ? bugs : undefined;
    });
    const { occurrences } = (await bugDetail(lc, bug!.id)) as unknown as {
      occurrences: { message: string; context: Record<string, unknown> }[];
    };
    expect(occurrences.map((o) => o.message).sort()).toEqual([
      '',
      '42',
      '[object Object]',
      'null',
      'undefined',
      '{}',
    ]);
    for (const { context } of occurrences) expect(context.context_dropped).toBe('not serialisable');
    await shop.page.context().close();
  });

  it('is a no-op outside a browser', async () => {
    const { init } = await import('../../clients/browser/index');
    const reporter = init({ url: 'http://127.0.0.1:9', projectId: 'p', environment: 'test' });
    expect(() => reporter.captureException(new Error('x'))).not.toThrow();
    reporter.close();
  });
});
