/**
 * The entry point as `npm run monitor` runs it (`tsx monitor/src/main.ts`), and the bundle the
 * container image runs, each in a child process against the fake Kubernetes API server
 * (fake-kube.ts; no cluster can run here) and a real Log Center.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { type FakeKube, startFakeKube } from './fake-kube';
import { dashed, deploymentBugs, namespace, registerProject } from './harness';
import { pod, states } from './pods';

const repoRoot = resolve(import.meta.dirname, '../..');
type Line = Record<string, unknown>;

let lc: LogCenterHandle;
let kube: FakeKube;
let dir: string;

beforeAll(async () => {
  lc = await startLogCenter();
  dir = mkdtempSync(join(tmpdir(), 'pod-monitor-cli-'));
  kube = await startFakeKube(dir);
});
afterAll(async () => {
  await kube.close();
  await lc.stop();
  rmSync(dir, { recursive: true, force: true });
});

const TSX_ENTRY = ['--import', 'tsx', 'monitor/src/main.ts'];

function start(args: string[], env: Record<string, string>, entry = TSX_ENTRY) {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      KUBECONFIG: kube.kubeconfig,
      LOG_CENTER_URL: lc.url,
      LOG_CENTER_TOKEN: lc.token,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    // every line must be JSON; JSON.parse throws (and fails the test) otherwise
    for (const line of complete) if (line) lines.push(JSON.parse(line));
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, lines, exited, stderr: () => stderr };
}

async function waitFor(lines: Line[], predicate: (lines: Line[]) => boolean, child: ChildProcess) {
  const deadline = Date.now() + 20_000;
  while (!predicate(lines)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`gave up waiting; saw ${JSON.stringify(lines)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Each child process starts a TypeScript loader and the Kubernetes client, which is slow on a busy machine.
describe('npm run monitor', { timeout: 60_000 }, () => {
  it('--once scans, reports, logs JSON and exits 0', async () => {
    const project = uniqueProject('cli_once');
    await registerProject(lc, project);
    const ns = namespace();
    const p = pod({
      app: dashed(project),
      namespace: ns,
      containers: [{ name: 'app', state: states.terminated('OOMKilled', 137), restartCount: 2 }],
    });
    kube.setPods(ns, [p.json]);
    kube.setLog(ns, p.name, 'app', { current: 'java.lang.OutOfMemoryError: Java heap space\n' });

    const run = start(['--once'], { MONITOR_NAMESPACE: ns });
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toBe('');
    expect(run.lines[0]).toMatchObject({
      level: 'info',
      msg: 'pod monitor starting',
      mode: 'once',
      namespaces: [ns],
      kubernetes: { source: 'kubeconfig', server: kube.url },
      component: 'pod-monitor',
    });
    expect(run.lines.find((l) => l.msg === 'deployment error reported')).toMatchObject({
      project_id: project,
      type: 'OOMKilled',
      result: 'Log reported',
    });
    expect(run.lines.at(-1)).toMatchObject({ msg: 'scan finished', reported: 1 });
    const [bug] = await deploymentBugs(lc, project);
    expect(bug?.error.stack_trace).toEqual(['java.lang.OutOfMemoryError: Java heap space']);
  });

  it('--once exits 1 when the cluster cannot be listed, and 2 on bad configuration', async () => {
    const down = start(['--once'], {
      MONITOR_NAMESPACE: namespace(),
      KUBECONFIG: join(dir, 'missing-kubeconfig'),
    });
    expect(await down.exited).toBe(2);
    expect(down.lines.at(-1)).toMatchObject({
      level: 'error',
      msg: 'cannot configure the Kubernetes client',
    });

    kube.failure = 'unavailable';
    try {
      const unavailable = start(['--once'], { MONITOR_NAMESPACE: namespace() });
      expect(await unavailable.exited).toBe(1);
      expect(unavailable.lines.at(-1)).toMatchObject({ msg: 'scan finished', outage: 'kubernetes' });
    } finally {
      kube.failure = undefined;
    }

    const bad = start(['--once'], { LOG_CENTER_TOKEN: '', POLL_SECONDS: 'soon' });
    expect(await bad.exited).toBe(2);
    const [line] = bad.lines;
    expect(line).toMatchObject({ level: 'error', msg: 'invalid configuration' });
    expect(String(line?.problems)).toContain('LOG_CENTER_TOKEN');
    expect(String(line?.problems)).toContain('POLL_SECONDS');
  });

  it('polls every POLL_SECONDS without re-reporting, and stops cleanly on SIGTERM', async () => {
    const project = uniqueProject('cli_poll');
    await registerProject(lc, project);
    const ns = namespace();
    kube.setPods(ns, [
      pod({
        app: dashed(project),
        namespace: ns,
        containers: [
          ({ pod: name, uid }) => ({
            name: 'app',
            state: states.crashLoop('app', name, ns, uid),
            restartCount: 6,
          }),
        ],
      }).json,
    ]);

    const run = start([], { MONITOR_NAMESPACE: ns, POLL_SECONDS: '1' });
    const scans = (lines: Line[]) => lines.filter((l) => l.msg === 'scan finished');
    await waitFor(run.lines, (lines) => scans(lines).length >= 2, run.child);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    const [first, second] = scans(run.lines);
    expect(first).toMatchObject({ reported: 1, unchanged: 0 });
    expect(second).toMatchObject({ reported: 0, unchanged: 1 });
    expect(run.lines.at(-1)).toMatchObject({ msg: 'stopping', signal: 'SIGTERM' });
    expect((await deploymentBugs(lc, project))[0]?.occurrence_count).toBe(1);
  });
});

describe('the container image’s bundle', { timeout: 60_000 }, () => {
  it('builds with monitor/build.mjs and runs on plain Node without node_modules', async () => {
    const project = uniqueProject('bundle');
    await registerProject(lc, project);
    const ns = namespace();
    kube.setPods(ns, [
      pod({
        app: dashed(project),
        namespace: ns,
        containers: [{ name: 'app', state: states.errImagePull('r/app:gone') }],
      }).json,
    ]);
    // outside the repository, as in the image: nothing to resolve packages from
    const bundle = join(dir, 'image', 'monitor.mjs');
    await promisify(execFile)(process.execPath, ['monitor/build.mjs', bundle], { cwd: repoRoot });

    const run = start(['--once'], { MONITOR_NAMESPACE: ns }, ['--enable-source-maps', bundle]);
    expect(await run.exited).toBe(0);
    expect(run.lines.at(-1)).toMatchObject({ msg: 'scan finished', reported: 1 });
    expect((await deploymentBugs(lc, project))[0]?.error.type).toBe('ErrImagePull');
  });
});
