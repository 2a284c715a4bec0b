import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeReport } from '../helpers/payloads';
import { freePort } from './support';

/**
 * The walk-through of docs/deploy-cloudflare.md ("Run the Worker locally"), as a newcomer runs
 * it: local D1 migrations, `wrangler dev --test-scheduled` with the vars of .dev.vars.example,
 * a report, the bug list with the token, the cron fired through /__scheduled. Local mode only:
 * wrangler runs the installed workerd and downloads nothing. A temporary persist folder keeps
 * the checkout's .wrangler/state out of it.
 */
const root = join(import.meta.dirname, '..', '..');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const run = promisify(execFile);
// The values .dev.vars.example ships with; the test reads that file, so they must agree.
const TOKEN = 'local-dev-token';

let persistDir: string;
let dev: ChildProcess | undefined;
let output = '';
let url: string;

beforeAll(async () => {
  persistDir = mkdtempSync(join(tmpdir(), 'log-center-wrangler-'));
  const env = { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };
  await run(wrangler, ['d1', 'migrations', 'apply', 'log-center', '--local', '--persist-to', persistDir], {
    cwd: root,
    env,
  });

  const [port, inspectorPort] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${port}`;
  dev = spawn(
    wrangler,
    [
      'dev',
      '--local',
      '--test-scheduled',
      '--ip=127.0.0.1',
      `--port=${port}`,
      `--inspector-port=${inspectorPort}`,
      `--persist-to=${persistDir}`,
      '--env-file=.dev.vars.example',
      '--show-interactive-dev-session=false',
    ],
    { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  dev.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  dev.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 45_000;
  while (!/Ready on/.test(output)) {
    if (dev.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 90_000);

afterAll(async () => {
  if (dev?.pid && dev.exitCode === null) {
    const exited = new Promise((r) => dev?.once('exit', r));
    // wrangler runs workerd as a child: end the whole group this test started.
    process.kill(-dev.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (dev.exitCode === null) process.kill(-dev.pid, 'SIGKILL');
  }
  rmSync(persistDir, { recursive: true, force: true });
});

describe('npm run dev:worker, as docs/deploy-cloudflare.md walks through it', () => {
  const project = `wdev_${process.pid}_${Date.now().toString(36)}`;

  it('loads the secrets of .dev.vars.example: the private API answers the token, not 503', async () => {
    expect(output).toContain('.dev.vars.example');
    const anonymous = await fetch(`${url}/api/v1/bugs?project_id=${project}`);
    expect(anonymous.status).toBe(401);
    await anonymous.arrayBuffer();
  });

  it('takes a report and lists its bug with the token', async () => {
    const res = await fetch(`${url}/api/v1/logs/report`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(runtimeReport(project)),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ message: 'Log reported' });

    const bugs = await fetch(`${url}/api/v1/bugs?project_id=${project}`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(bugs.status).toBe(200);
    const page = (await bugs.json()) as { items: { project_id: string; status: string }[] };
    expect(page.items).toEqual([expect.objectContaining({ project_id: project, status: 'NEW' })]);
  });

  it('fires the cron through /__scheduled and runs the sweep', async () => {
    const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('*/5 * * * *')}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Ran scheduled event');
    await expect.poll(() => output, { timeout: 10_000 }).toMatch(/"msg":"sweep"/);
  });

  it('serves the API reference and its Swagger UI files from the Worker itself', async () => {
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/docs/assets/swagger-ui-bundle.js');
    for (const [file, type] of [
      ['swagger-ui-bundle.js', 'javascript'],
      ['swagger-ui.css', 'text/css'],
    ] as const) {
      const res = await fetch(`${url}/docs/assets/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type'), file).toContain(type);
      expect((await res.text()).length, file).toBeGreaterThan(100_000);
    }
    // The rest of the package folder is not served.
    const other = await fetch(`${url}/docs/assets/package.json`);
    expect(other.status).toBe(404);
    await other.arrayBuffer();
  });
});
