import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';

// The integration guide's reportError() snippet, verbatim apart from its constants.
const guideSnippet = (logCenterUrl: string, projectId: string) => `
const LOG_CENTER_URL = ${JSON.stringify(logCenterUrl)};
function reportError(error, context) {
  const stackLines = error.stack?.split('\\n') || [];
  const match = stackLines[1]?.match(/at\\s+.*\\s+\\((.+):(\\d+):\\d+\\)/);
  const payload = {
    project_id: ${JSON.stringify(projectId)},
    environment: 'production',
    level: 'ERROR',
    error: {
      type: error.name,
      message: error.message,
      file_path: match?.[1] || 'unknown',
      line_number: parseInt(match?.[2] || '0'),
      stack_trace: stackLines,
    },
    context: { url: window.location.href, userAgent: navigator.userAgent, ...context },
  };
  const blob = new Blob([JSON.stringify(payload)], { type: 'application/json' });
  if (navigator.sendBeacon) {
    window.__queued = navigator.sendBeacon(\`\${LOG_CENTER_URL}/api/v1/logs/report\`, blob);
  } else {
    fetch(\`\${LOG_CENTER_URL}/api/v1/logs/report\`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload), keepalive: true,
    }).catch(() => {});
  }
}
window.onerror = (_message, source, lineno, colno, error) => {
  if (error) reportError(error, { source, lineno, colno });
};
function checkout() {
  throw new TypeError('cart is undefined');
}
setTimeout(checkout, 0);
`;

let lc: LogCenterHandle;
let site: Server;
let siteUrl: string;
let browser: Browser;
const project = uniqueProject('web');

beforeAll(async () => {
  lc = await startLogCenter();
  // The app page lives on another origin (another port) than Log Center.
  site = createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(guideSnippet(lc.url, project));
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>shop</title><script src="/app.js"></script>');
    }
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://localhost:${(site.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => site?.close(r));
  await lc?.stop();
});

describe('the guide browser snippet in real Chromium', () => {
  it('delivers a sendBeacon report with an application/json Blob from another origin', async () => {
    const page = await browser.newPage();
    const preflights: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/api/v1/logs/report')) preflights.push(req.method());
    });
    await page.goto(`${siteUrl}/`);
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { __queued?: boolean }).__queued))
      .toBe(true);

    let bugs: {
      total: number;
      items: { id: number; error: { type: string; file_path: string; line_number: number } }[];
    } = { total: 0, items: [] };
    await expect
      .poll(
        async () => {
          bugs = await (await lc.api(`/api/v1/bugs?project_id=${project}`)).json();
          return bugs.total;
        },
        { timeout: 10_000 },
      )
      .toBe(1);
    const [bug] = bugs.items;
    expect(bug!.error.type).toBe('TypeError');
    expect(bug!.error.file_path).toBe(`${siteUrl}/app.js`);
    const throwLine =
      guideSnippet(lc.url, project)
        .split('\n')
        .findIndex((l) => l.includes('throw new TypeError')) + 1;
    expect(bug!.error.line_number).toBe(throwLine);
    const detail = await (await lc.api(`/api/v1/bugs/${bug!.id}`)).json();
    expect(detail.context.userAgent).toContain('Chrome');
    await page.close();
  });
});
