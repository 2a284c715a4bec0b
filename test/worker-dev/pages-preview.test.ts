import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, ROOT } from '../dashboard/build';
import { freePort } from './support';

/**
 * `npm run preview:dashboard` (docs/deploy-cloudflare.md, step 4): the Pages build under the real
 * `wrangler pages dev`, local mode. The preview must get the dashboard's configuration only: the
 * API Worker's D1 binding, its vars and the root .dev.vars belong to the API, not to the Pages
 * project. wrangler prints the bindings the preview's Worker receives, which is what is checked.
 */
const API = 'http://localhost:8787';

let dist: string;
let preview: ChildProcess | undefined;
let output = '';
let url: string;

beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'log-center-pages-'));
  buildDashboard({ outDir: dist, apiBase: API });
  const [port, inspectorPort] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${port}`;
  preview = spawn(
    process.execPath,
    [
      join(ROOT, 'scripts', 'preview-dashboard.mjs'),
      dist,
      '--ip=127.0.0.1',
      `--port=${port}`,
      `--inspector-port=${inspectorPort}`,
      '--show-interactive-dev-session=false',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  preview.stdout?.on('data', collect);
  preview.stderr?.on('data', collect);
  const deadline = Date.now() + 60_000;
  while (!/Ready on/.test(output)) {
    if (preview.exitCode !== null) throw new Error(`preview exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`preview did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

afterAll(async () => {
  if (preview?.pid && preview.exitCode === null) {
    const exited = new Promise((r) => preview?.once('exit', r));
    process.kill(-preview.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (preview.exitCode === null) process.kill(-preview.pid, 'SIGKILL');
  }
  rmSync(dist, { recursive: true, force: true });
});

describe('npm run preview:dashboard', () => {
  it("gives the preview the Pages project's bindings only, none of the API Worker's", () => {
    const bindings = output.slice(output.indexOf('Binding'), output.indexOf('Ready on'));
    expect(bindings).toContain('env.CF_PAGES ');
    // From the root wrangler.toml: the D1 database and its [vars].
    expect(bindings).not.toContain('env.DB');
    expect(bindings).not.toContain('RETENTION_DAYS');
    expect(bindings).not.toContain('ALERT_THROTTLE_MINUTES');
    // From a root .dev.vars, when a developer has one.
    expect(bindings).not.toContain('LOG_CENTER_API_TOKEN');
    expect(output).not.toMatch(/Scheduled Workers/);
  });

  it('serves the build as Pages does: the _headers rule and the single-page fallback', async () => {
    const home = await fetch(`${url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-security-policy')).toContain(`connect-src 'self' ${API}`);
    expect(home.headers.get('x-frame-options')).toBe('DENY');
    expect(await home.text()).toContain('<div id="app">');

    const deep = await fetch(`${url}/bugs/1`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="app">');
  });
});
