import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardCsp } from '../../functions/middleware/headers';
import { type RunningServer, startServer } from '../../functions/server';
import { launchChromium } from '../helpers/browser';
import { runtimeReport } from '../helpers/payloads';
import { testServerOptions, uniqueProject } from '../helpers/server';
import { buildDashboard } from './build';

/** What docs/api.md, limits asks of the dashboard's answers, on the Node server and on Pages alike. */
const DASHBOARD_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The `/*` rule of a Pages `_headers` file, as header name → value. */
function pagesRule(file: string): Record<string, string> {
  const headers: Record<string, string> = {};
  let inRule = false;
  for (const line of file.split('\n')) {
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      inRule = line.trim() === '/*';
      continue;
    }
    const at = line.indexOf(':');
    if (inRule && at > 0) headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

/** Cloudflare Pages in miniature: static files, the SPA fallback and the build's `_headers`. */
function pagesHost(dir: string) {
  return listen((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = path.startsWith('/assets/') ? join(dir, path) : join(dir, 'index.html');
    // A build without the file gets no headers, as on Pages.
    const headers = existsSync(join(dir, '_headers'))
      ? pagesRule(readFileSync(join(dir, '_headers'), 'utf8'))
      : {};
    try {
      const body = readFileSync(file);
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
}

const cspOf = (res: Response) => res.headers.get('content-security-policy') ?? '';

const nodeDist = mkdtempSync(join(tmpdir(), 'log-center-headers-node-'));
const pagesDist = mkdtempSync(join(tmpdir(), 'log-center-headers-pages-'));
const dataDirs: string[] = [];
let lc: RunningServer;
let pages: { url: string; server: Server };
let framer: { url: string; server: Server };
/** A page that sends no framing headers, on a third origin: the control for the framing tests. */
let plain: { url: string; server: Server };
let browser: Browser | undefined;
const project = uniqueProject('hdr');

beforeAll(async () => {
  // Built into folders of its own: the e2e suite rebuilds dashboard/dist while this one runs.
  buildDashboard({ outDir: nodeDist });
  pages = await pagesHost(pagesDist);
  const options = testServerOptions({ env: { CORS_ORIGINS: pages.url } });
  dataDirs.push(options.dataDir);
  lc = await startServer({ ...options, port: 0, dashboardDir: nodeDist, sweepIntervalMs: 0 });
  buildDashboard({ outDir: pagesDist, apiBase: lc.url });
  const seeded = await fetch(`${lc.url}/api/v1/logs/report`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(runtimeReport(project)),
  });
  expect(seeded.status).toBe(200);
  plain = await listen((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>plain</title><p id="plain">framed</p>');
  });
  // A page on another origin that tries to frame the dashboard (and, as a control, `plain`).
  framer = await listen((req, res) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>framer</title><iframe name="target" src="${target}"></iframe>`);
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const s of [pages, framer, plain]) if (s) await new Promise((done) => s.server.close(done));
  await lc?.close();
  for (const dir of [nodeDist, pagesDist, ...dataDirs]) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard headers on the Node server', () => {
  it('sends the app shell, deep links and assets with CSP, X-Frame-Options and Referrer-Policy', async () => {
    const shell = await fetch(`${lc.url}/`);
    const html = await shell.text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    for (const path of ['/', '/bugs/1', script!]) {
      const res = await fetch(`${lc.url}${path}`);
      await res.arrayBuffer();
      expect(res.status, path).toBe(200);
      expect(Object.fromEntries(Object.keys(DASHBOARD_HEADERS).map((h) => [h, res.headers.get(h)]))).toEqual(
        DASHBOARD_HEADERS,
      );
      const csp = cspOf(res);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toContain('unsafe');
    }
  });

  it('sends nosniff on every API answer, without the dashboard policy', async () => {
    const answers = [
      await fetch(`${lc.url}/api/health`),
      await fetch(`${lc.url}/api/v1/projects`), // 401: no token
      await fetch(`${lc.url}/api/no-such-route`), // 404
      await fetch(`${lc.url}/api/v1/logs/report`, {
        method: 'POST',
        body: '{',
        headers: { 'Content-Type': 'application/json' },
      }),
      await fetch(`${lc.url}/openapi.json`),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 404, 400, 200]);
    for (const res of answers) {
      await res.arrayBuffer();
      expect(res.headers.get('x-content-type-options'), res.url).toBe('nosniff');
      expect(res.headers.get('content-security-policy'), res.url).toBeNull();
    }
  });

  it('leaves /docs out of the dashboard policy: Swagger UI may load from a CDN', async () => {
    const docs = await fetch(`${lc.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger-ui');
    expect(docs.headers.get('x-content-type-options')).toBe('nosniff');
    // The docs page may get a policy of its own (issue 16), never the dashboard's.
    expect(docs.headers.get('content-security-policy')).not.toBe(dashboardCsp());
  });
});

describe('Cloudflare Pages build', () => {
  it('writes _headers with the same headers, allowing the API origin for connect-src', () => {
    const file = readFileSync(join(pagesDist, '_headers'), 'utf8');
    const rule = pagesRule(file);
    expect(Object.fromEntries(Object.keys(DASHBOARD_HEADERS).map((h) => [h, rule[headerCase(h)]]))).toEqual(
      DASHBOARD_HEADERS,
    );
    const csp = rule['Content-Security-Policy'] ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${new URL(lc.url).origin}`);
    // A build without an API base allows its own origin only.
    expect(pagesRule(readFileSync(join(nodeDist, '_headers'), 'utf8'))['Content-Security-Policy']).toContain(
      "connect-src 'self';",
    );
  });

  it('no longer puts the policy in a <meta> tag the headers would have to agree with', () => {
    expect(readFileSync(join(pagesDist, 'index.html'), 'utf8')).not.toContain('Content-Security-Policy');
  });
});

function headerCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

describe('dashboard headers in Chromium', () => {
  beforeAll(async () => {
    browser = await launchChromium();
  });

  /** Loads `url` in a fresh page; returns the page and every CSP violation or error it logged. */
  async function open(url: string): Promise<{ page: Page; problems: string[] }> {
    const context = await browser!.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(String(error)));
    page.on('response', (res) => {
      if (res.status() >= 500) problems.push(`${res.status()} ${res.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) {
        problems.push(message.text());
      }
    });
    await page.goto(url);
    return { page, problems };
  }

  for (const where of ['node', 'pages'] as const) {
    it(`cannot be framed by another origin (${where})`, async () => {
      const dashboard = where === 'node' ? `${lc.url}/` : `${pages.url}/`;
      const { page, problems } = await open(`${framer.url}/?src=${encodeURIComponent(dashboard)}`);
      await expect.poll(() => problems.some((p) => p.includes("frame-ancestors 'none'"))).toBe(true);
      const frame = page.frame({ name: 'target' });
      expect(frame).not.toBeNull();
      // The blocked frame shows Chromium's error page, not the app.
      expect(frame!.url()).not.toBe(dashboard);
      expect(await frame!.locator('#app').count()).toBe(0);
      await page.context().close();
    });
  }

  it('sees a page from another origin load in the frame when it sends no framing headers (control)', async () => {
    const target = `${plain.url}/`;
    const { page, problems } = await open(`${framer.url}/?src=${encodeURIComponent(target)}`);
    const frame = page.frame({ name: 'target' });
    await expect.poll(() => frame?.url()).toBe(target);
    await frame!.locator('#plain').waitFor();
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('runs under its policy on the Node server: board and stats without a violation', async () => {
    const { page, problems } = await open(
      `${lc.url}/?token=${encodeURIComponent(lc.token)}&project=${project}`,
    );
    await page.getByRole('heading', { name: 'Bug 自动修复看板' }).waitFor();
    await page.locator('tr[data-bug-id]').first().waitFor();
    await page.goto(`${lc.url}/stats`);
    await page.locator('.uplot, canvas').first().waitFor();
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('runs under its policy on Pages, calling the API on its own origin', async () => {
    const { page, problems } = await open(
      `${pages.url}/?token=${encodeURIComponent(lc.token)}&project=${project}`,
    );
    await page.locator('tr[data-bug-id]').first().waitFor();
    await page.goto(`${pages.url}/stats`);
    await page.locator('.uplot, canvas').first().waitFor();
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
