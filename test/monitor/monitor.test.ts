/**
 * The pod monitor end to end: a fake Kubernetes API server (see fake-kube.ts — it stands in for a
 * cluster, which cannot run here) reached through a kubeconfig file, and a real Log Center server on a
 * temporary database receiving the reports. Assertions read the bugs back through the API, as the
 * dashboard would show them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jsonLogger, type LogFields } from '../../monitor/src/log';
import { emptySummary, pollForever, type ScanSummary } from '../../monitor/src/monitor';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import type { FakeKube } from './fake-kube';
import {
  dashed,
  deploymentBugs,
  namespace,
  registerProject,
  setupMonitor,
  startSwitchableProxy,
} from './harness';
import { logLines, pod, states } from './pods';

let lc: LogCenterHandle;
let dir: string;
const cleanups: (() => Promise<void>)[] = [];
const savedKubeconfig = process.env.KUBECONFIG;

beforeAll(async () => {
  lc = await startLogCenter();
  dir = mkdtempSync(join(tmpdir(), 'pod-monitor-test-'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(async () => {
  await lc.stop();
  rmSync(dir, { recursive: true, force: true });
  if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedKubeconfig;
});

async function monitorFor(
  options: Parameters<typeof setupMonitor>[2] & { logCenter?: { url: string; token: string } },
) {
  const setup = await setupMonitor(options.logCenter ?? lc, dir, options);
  cleanups.push(() => setup.kube.close());
  return setup;
}

const crashLooping = (
  ns: string,
  app: string,
  restartCount: number,
  extra: Partial<Parameters<typeof pod>[0]> = {},
) =>
  pod({
    app,
    namespace: ns,
    containers: [
      ({ pod: name, uid }) => ({
        name: 'app',
        state: states.crashLoop('app', name, ns, uid),
        lastState: states.terminated('Error', 1),
        restartCount,
      }),
    ],
    ...extra,
  });

const logRequests = (kube: FakeKube) =>
  kube.requests
    .filter((r) => r.path.endsWith('/log'))
    .map(
      (r) =>
        `${r.path.split('/')[6]}/${r.query.container} previous=${r.query.previous} tail=${r.query.tailLines}`,
    );

describe('detecting and reporting each state', () => {
  it('reports every watched state with the guide’s fields and the crashed container’s log', async () => {
    const project = uniqueProject('rtc_backend');
    await registerProject(lc, project);
    const ns = namespace();
    const app = dashed(project);
    const { kube, monitor } = await monitorFor({ env: { MONITOR_NAMESPACE: ns } });

    const api = pod({
      app,
      workload: 'api',
      namespace: ns,
      nodeName: 'node-3',
      containers: [
        ({ pod: name, uid }) => ({
          name: 'api',
          state: states.crashLoop('api', name, ns, uid),
          lastState: states.terminated('Error', 1),
          restartCount: 5,
        }),
      ],
    });
    const worker = pod({
      app,
      workload: 'worker',
      namespace: ns,
      containers: [
        ({ pod: name, uid }) => ({
          name: 'worker',
          state: states.crashLoop('worker', name, ns, uid),
          lastState: states.terminated('OOMKilled', 137),
          restartCount: 3,
        }),
      ],
    });
    const notifier = pod({
      app,
      workload: 'notifier',
      namespace: ns,
      containers: [
        ({ pod: name, uid }) => ({
          name: 'notifier',
          state: states.crashLoop('notifier', name, ns, uid),
          lastState: states.terminated('Error', 1),
          restartCount: 7,
        }),
      ],
    });
    const image = 'registry.example.com/web:does-not-exist';
    const web = pod({
      app,
      workload: 'web',
      namespace: ns,
      containers: [{ name: 'web', image, state: states.imagePullBackOff(image) }],
    });
    const admin = pod({
      app,
      workload: 'admin',
      namespace: ns,
      containers: [{ name: 'admin', image, state: states.errImagePull(image) }],
    });
    const scheduler = pod({
      app,
      workload: 'scheduler',
      namespace: ns,
      containers: [{ name: 'scheduler', state: states.createContainerConfigError('scheduler-secrets') }],
    });
    const gateway = pod({
      app,
      workload: 'gateway',
      namespace: ns,
      containers: [{ name: 'gateway', state: states.runContainerError() }],
    });
    const migrate = pod({
      app,
      workload: 'migrate-29034710',
      owner: 'job',
      phase: 'Failed',
      namespace: ns,
      containers: [{ name: 'migrate', state: states.terminated('Error', 2) }],
    });
    const healthy = pod({
      app,
      workload: 'healthy',
      namespace: ns,
      containers: [{ name: 'ok', state: states.running() }],
    });
    const done = pod({
      app,
      workload: 'backup-29034700',
      owner: 'job',
      phase: 'Succeeded',
      namespace: ns,
      containers: [{ name: 'backup', state: states.terminated('Completed', 0) }],
    });
    kube.setPods(
      ns,
      [api, worker, notifier, web, admin, scheduler, gateway, migrate, healthy, done].map((p) => p.json),
    );
    kube.setLog(ns, api.name, 'api', { previous: logLines('api', 80), current: 'starting api\n' });
    kube.setLog(ns, worker.name, 'worker', { previous: 'loading model\nallocating 2Gi buffer\n' });
    // the previous instance's log is gone (rotated); the current one is attached instead
    kube.setLog(ns, notifier.name, 'notifier', {
      current: 'notifier booting\nconnect ECONNREFUSED 10.43.0.9:5432\n',
    });
    kube.setLog(ns, migrate.name, 'migrate', {
      current: 'applying 0042_add_index\nduplicate key value violates unique constraint\n',
    });

    const summary = await monitor.scan();
    expect(summary).toEqual<ScanSummary>({
      pods: 10,
      findings: 8,
      reported: 8,
      unchanged: 0,
      unmapped: 0,
      rejected: 0,
      listFailures: 0,
    });

    const bugs = await deploymentBugs(lc, project);
    const byDeployment = Object.fromEntries(bugs.map((b) => [b.context.deployment_name, b]));
    expect(Object.keys(byDeployment).sort()).toEqual(
      [app, 'admin', 'api', 'gateway', 'notifier', 'scheduler', 'web', 'worker'].sort(),
    );
    for (const bug of bugs) {
      expect(bug).toMatchObject({
        source: 'deployment',
        level: 'CRITICAL',
        environment: 'production',
        status: 'NEW',
      });
      expect(bug.error.file_path).toBeNull();
      expect(bug.error.line_number).toBeNull();
      expect(bug.occurrence_count).toBe(1);
    }

    expect(byDeployment.api).toMatchObject({
      error: {
        type: 'CrashLoopBackOff',
        message: `CrashLoopBackOff: back-off 5m0s restarting failed container=api pod=${api.name}_${ns}(${api.uid}) (pod: ${api.name}, container: api)`,
      },
      context: {
        namespace: ns,
        pod_name: api.name,
        container_name: 'api',
        deployment_name: 'api',
        restart_count: 5,
        node_name: 'node-3',
        app_label: app,
        exit_code: 1,
      },
    });
    const apiStack = byDeployment.api!.error.stack_trace;
    expect(apiStack).toHaveLength(50);
    expect(apiStack[0]).toBe('api line 31');
    expect(apiStack.at(-1)).toBe('api line 80');

    expect(byDeployment.worker!.error.type).toBe('OOMKilled');
    expect(byDeployment.worker!.error.message).toMatch(
      /^OOMKilled: container was killed for exceeding its memory limit \(exit code 137\)/,
    );
    expect(byDeployment.worker!.error.stack_trace).toEqual(['loading model', 'allocating 2Gi buffer']);
    expect(byDeployment.worker!.context).toMatchObject({ restart_count: 3, exit_code: 137 });

    expect(byDeployment.notifier!.error.stack_trace).toEqual([
      'notifier booting',
      'connect ECONNREFUSED 10.43.0.9:5432',
    ]);

    expect(byDeployment.web!.error).toMatchObject({
      type: 'ImagePullBackOff',
      message: `ImagePullBackOff: Back-off pulling image "${image}" (pod: ${web.name}, container: web)`,
      stack_trace: [],
    });
    expect(byDeployment.web!.context.image).toBe(image);
    expect(byDeployment.admin!.error.type).toBe('ErrImagePull');
    expect(byDeployment.scheduler!.error).toMatchObject({
      type: 'CreateContainerConfigError',
      message: expect.stringContaining('secret "scheduler-secrets" not found'),
    });
    expect(byDeployment.gateway!.error.type).toBe('RunContainerError');

    // the Job's pod has no ReplicaSet, so its app label names the workload
    expect(byDeployment[app]).toMatchObject({
      error: {
        type: 'Error',
        stack_trace: ['applying 0042_add_index', 'duplicate key value violates unique constraint'],
      },
      context: { pod_name: migrate.name, container_name: 'migrate', exit_code: 2, restart_count: 0 },
    });

    // previous instance first, 50 lines, the current one only as fallback; none for never-started containers
    expect(logRequests(kube).sort()).toEqual(
      [
        `${api.name}/api previous=true tail=50`,
        `${worker.name}/worker previous=true tail=50`,
        `${notifier.name}/notifier previous=true tail=50`,
        `${notifier.name}/notifier previous=false tail=50`,
        `${migrate.name}/migrate previous=false tail=50`,
      ].sort(),
    );
    // every request carried the kubeconfig's credentials
    expect(new Set(kube.requests.map((r) => r.authorization))).toEqual(new Set([`Bearer ${kube.token}`]));
  });

  it('keeps scanning past odd pod objects in a real PodList', async () => {
    const project = uniqueProject('odd');
    await registerProject(lc, project);
    const ns = namespace();
    const { kube, monitor } = await monitorFor({ env: { MONITOR_NAMESPACE: ns } });
    const good = crashLooping(ns, dashed(project), 2);
    kube.setPods(ns, [
      { metadata: { name: 'no-status', namespace: ns, labels: { app: dashed(project) } } },
      { metadata: { name: 'empty-status', namespace: ns }, status: {} },
      {
        metadata: { namespace: ns },
        status: { containerStatuses: [{ name: 'x', state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
      },
      {
        metadata: { name: 'odd-states', namespace: ns, labels: { app: dashed(project) } },
        status: {
          containerStatuses: [
            { name: 'a', state: {}, lastState: {} },
            { name: 'b', state: { waiting: {} } },
            { name: 'c', state: { terminated: { reason: 'SomethingNew' } } },
            { state: { waiting: { reason: 'CrashLoopBackOff' } } },
          ],
        },
      },
      good.json,
    ]);
    kube.setLog(ns, good.name, 'app', { previous: 'panic: nil map\n' });

    const summary = await monitor.scan();
    expect(summary).toMatchObject({ pods: 5, findings: 1, reported: 1 });
    const [bug] = await deploymentBugs(lc, project);
    expect(bug?.error.stack_trace).toEqual(['panic: nil map']);
  });
});

describe('project mapping', () => {
  it('maps dashed app labels, the -dev variant and the project id itself', async () => {
    const project = uniqueProject('rtc_web');
    await registerProject(lc, project);
    const ns = namespace();
    const { kube, monitor } = await monitorFor({ env: { MONITOR_NAMESPACE: ns, ENVIRONMENT: 'staging' } });
    const prod = crashLooping(ns, dashed(project), 1, { workload: 'rtc-web' });
    const dev = crashLooping(ns, `${dashed(project)}-dev`, 1, { workload: 'rtc-web-dev' });
    const exact = crashLooping(ns, project, 1, { owner: 'none', workload: 'debug-shell' });
    kube.setPods(ns, [prod.json, dev.json, exact.json]);

    expect(await monitor.scan()).toMatchObject({ reported: 3, unmapped: 0 });
    const bugs = await deploymentBugs(lc, project);
    const environments = Object.fromEntries(bugs.map((b) => [b.context.deployment_name, b.environment]));
    expect(environments).toEqual({
      'rtc-web': 'staging',
      'rtc-web-dev': 'development',
      [project]: 'staging',
    });
  });

  it('skips unknown apps, says so once, and picks a project up after the next refresh', async () => {
    const project = uniqueProject('late_joiner');
    const ns = namespace();
    const { kube, monitor, logs } = await monitorFor({
      env: { MONITOR_NAMESPACE: ns, PROJECTS_REFRESH_SECONDS: '1' },
    });
    const unknownApp = `no-such-app-${ns}`;
    kube.setPods(ns, [
      crashLooping(ns, unknownApp, 4).json,
      crashLooping(ns, unknownApp, 2).json,
      crashLooping(ns, dashed(project), 1).json,
      pod({
        namespace: ns,
        workload: 'unlabelled',
        containers: [{ name: 'x', state: states.imagePullBackOff('x:1') }],
      }).json,
    ]);

    expect(await monitor.scan()).toMatchObject({ findings: 4, reported: 0, unmapped: 4 });
    expect(await monitor.scan()).toMatchObject({ findings: 4, reported: 0, unmapped: 4 });
    const skipped = logs.filter(
      (l) => l.msg === 'no Log Center project for this app label; its pods are skipped',
    );
    expect(skipped.map((l) => l.app_label).sort()).toEqual([dashed(project), unknownApp].sort());
    expect(logs.filter((l) => l.msg === 'pod has no app label; skipped')).toHaveLength(1);
    expect((await lc.api(`/api/v1/projects/${unknownApp}`)).status).toBe(404);
    expect(kube.requests.filter((r) => r.path.endsWith('/log'))).toEqual([]);

    await registerProject(lc, project);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await monitor.scan()).toMatchObject({ reported: 1, unmapped: 3 });
    expect(await deploymentBugs(lc, project)).toHaveLength(1);
  });

  it('sends the project’s ingest key, and does not retry a report Log Center rejects', async () => {
    const project = uniqueProject('keyed');
    await registerProject(lc, project, { ingest_key: 'ingest_key_one_123' });
    const ns = namespace();
    const { kube, monitor, logs } = await monitorFor({ env: { MONITOR_NAMESPACE: ns } });
    const p = crashLooping(ns, dashed(project), 1);
    kube.setPods(ns, [p.json]);
    expect(await monitor.scan()).toMatchObject({ reported: 1, rejected: 0 });

    // the key changes while the monitor still holds the old one (its mapping is fresh for 5 minutes)
    await registerProject(lc, project, { ingest_key: 'ingest_key_two_456' });
    (p.json.status as { containerStatuses: { restartCount: number }[] }).containerStatuses[0]!.restartCount =
      2;
    expect(await monitor.scan()).toMatchObject({ reported: 0, rejected: 1 });
    expect(logs.find((l) => l.msg === 'Log Center rejected the report')).toMatchObject({
      level: 'error',
      status: 401,
      code: 'invalid_ingest_key',
      project_id: project,
    });
    expect(await monitor.scan()).toMatchObject({ reported: 0, rejected: 0, unchanged: 1 });
    expect((await deploymentBugs(lc, project))[0]?.occurrence_count).toBe(1);
  });
});

describe('restart-count de-duplication', () => {
  it('poll mode reports a container again only when its restart count changes', async () => {
    const project = uniqueProject('dedup');
    await registerProject(lc, project);
    const ns = namespace();
    const { kube, monitor } = await monitorFor({ mode: 'poll', env: { MONITOR_NAMESPACE: ns } });
    const p = crashLooping(ns, dashed(project), 3);
    const image = pod({
      app: dashed(project),
      workload: 'img',
      namespace: ns,
      containers: [{ name: 'img', state: states.imagePullBackOff('r/img:x') }],
    });
    kube.setPods(ns, [p.json, image.json]);
    kube.setLog(ns, p.name, 'app', { previous: 'boom\n' });

    expect(await monitor.scan()).toMatchObject({ findings: 2, reported: 2, unchanged: 0 });
    expect(await monitor.scan()).toMatchObject({ findings: 2, reported: 0, unchanged: 2 });
    expect(await monitor.scan()).toMatchObject({ findings: 2, reported: 0, unchanged: 2 });
    const occurrences = async () =>
      Object.fromEntries((await deploymentBugs(lc, project)).map((b) => [b.error.type, b.occurrence_count]));
    expect(await occurrences()).toEqual({ CrashLoopBackOff: 1, ImagePullBackOff: 1 });
    expect(logRequests(kube)).toHaveLength(1);

    (p.json.status as { containerStatuses: { restartCount: number }[] }).containerStatuses[0]!.restartCount =
      4;
    expect(await monitor.scan()).toMatchObject({ reported: 1, unchanged: 1 });
    expect(await occurrences()).toEqual({ CrashLoopBackOff: 2, ImagePullBackOff: 1 });
    const [bug] = (await deploymentBugs(lc, project)).filter((b) => b.error.type === 'CrashLoopBackOff');
    const detail = (await (await lc.api(`/api/v1/bugs/${bug!.id}`)).json()) as {
      occurrences: { context: { restart_count: number } }[];
    };
    expect(detail.occurrences.map((o) => o.context.restart_count)).toEqual([4, 3]);
  });

  it('once mode keeps no memory: every run reports what it sees', async () => {
    const project = uniqueProject('cron');
    await registerProject(lc, project);
    const ns = namespace();
    const first = await monitorFor({ mode: 'once', env: { MONITOR_NAMESPACE: ns } });
    const second = await monitorFor({ mode: 'once', env: { MONITOR_NAMESPACE: ns }, kube: first.kube });
    first.kube.setPods(ns, [crashLooping(ns, dashed(project), 3).json]);
    expect(await first.monitor.scan()).toMatchObject({ reported: 1 });
    expect(await second.monitor.scan()).toMatchObject({ reported: 1 });
    expect((await deploymentBugs(lc, project))[0]?.occurrence_count).toBe(2);
  });
});

describe('namespaces', () => {
  it('lists each namespace of a comma list, following continue tokens', async () => {
    const project = uniqueProject('multi_ns');
    await registerProject(lc, project);
    const [a, b] = [namespace(), namespace()];
    const { kube, monitor } = await monitorFor({ env: { MONITOR_NAMESPACE: `${a},${b}` } });
    kube.pageSize = 2;
    kube.setPods(
      a,
      [1, 2, 3, 4, 5].map((n) => crashLooping(a, dashed(project), n, { workload: `svc-${n}` }).json),
    );
    kube.setPods(b, [crashLooping(b, dashed(project), 1, { workload: 'svc-b' }).json]);
    kube.setPods(namespace(), [crashLooping('elsewhere', dashed(project), 1).json]);

    expect(await monitor.scan()).toMatchObject({ pods: 6, reported: 6 });
    const lists = kube.requests.filter((r) => r.path.endsWith('/pods'));
    expect(lists.map((r) => r.path)).toEqual([
      `/api/v1/namespaces/${a}/pods`,
      `/api/v1/namespaces/${a}/pods`,
      `/api/v1/namespaces/${a}/pods`,
      `/api/v1/namespaces/${b}/pods`,
    ]);
    expect(lists[0]?.query).toEqual({ limit: '500' });
    expect(lists[1]?.query.continue).toBeTruthy();
    expect(new Set((await deploymentBugs(lc, project)).map((bug) => bug.context.namespace))).toEqual(
      new Set([a, b]),
    );
  });

  it('"*" lists pods across all namespaces in one call', async () => {
    const project = uniqueProject('all_ns');
    await registerProject(lc, project);
    const [a, b] = [namespace(), namespace()];
    const { kube, monitor } = await monitorFor({ env: { MONITOR_NAMESPACE: '*' } });
    kube.setPods(a, [crashLooping(a, dashed(project), 1).json]);
    kube.setPods(b, [crashLooping(b, dashed(project), 1).json]);
    expect(await monitor.scan()).toMatchObject({ pods: 2, reported: 2 });
    expect(kube.requests.filter((r) => r.path.endsWith('pods')).map((r) => r.path)).toEqual(['/api/v1/pods']);
  });
});

describe('resilience', () => {
  it('rides out an unavailable or unreachable API server and recovers', async () => {
    const project = uniqueProject('kube_down');
    await registerProject(lc, project);
    const [a, b] = [namespace(), namespace()];
    const { kube, monitor, logs } = await monitorFor({ env: { MONITOR_NAMESPACE: `${a},${b}` } });
    kube.setPods(a, [crashLooping(a, dashed(project), 1).json]);

    kube.failure = 'unavailable';
    expect(await monitor.scan()).toMatchObject({ outage: 'kubernetes', listFailures: 2, reported: 0 });
    expect(logs.find((l) => l.msg === 'cannot list pods')?.error).toContain('HTTP 503');
    kube.failure = 'reset';
    expect(await monitor.scan()).toMatchObject({ outage: 'kubernetes', listFailures: 2 });

    kube.failure = undefined;
    expect(await monitor.scan()).toMatchObject({ reported: 1, listFailures: 0 });
    expect((await monitor.scan()).outage).toBeUndefined();

    await kube.close();
    expect(await monitor.scan()).toMatchObject({ outage: 'kubernetes' });
    expect(logs.filter((l) => l.level === 'error').every((l) => typeof l.error === 'string')).toBe(true);
  });

  it('says which setting to check when Log Center refuses the token', async () => {
    const ns = namespace();
    const { monitor, logs } = await monitorFor({
      env: { MONITOR_NAMESPACE: ns },
      logCenter: { url: lc.url, token: 'not-the-token' },
    });
    expect(await monitor.scan()).toMatchObject({ outage: 'log-center' });
    expect(logs.find((l) => l.msg === 'cannot load the project list from Log Center')?.error).toContain(
      'HTTP 401',
    );
    expect(logs.find((l) => l.msg === 'cannot load the project list from Log Center')?.error).toContain(
      'check LOG_CENTER_TOKEN',
    );
  });

  it('gives up on an API server that stops answering after REQUEST_TIMEOUT_SECONDS', async () => {
    const ns = namespace();
    const { kube, monitor, logs } = await monitorFor({
      env: { MONITOR_NAMESPACE: ns, REQUEST_TIMEOUT_SECONDS: '1' },
    });
    kube.failure = 'hang';
    const started = Date.now();
    expect(await monitor.scan()).toMatchObject({ outage: 'kubernetes' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(logs.find((l) => l.msg === 'cannot list pods')?.error).toMatch(/abort/i);
  });

  it('rides out Log Center being down, before and during a scan, without losing the report', async () => {
    const proxy = await startSwitchableProxy(lc.url);
    cleanups.push(proxy.close);
    const project = uniqueProject('lc_down');
    await registerProject(lc, project);
    const ns = namespace();
    const { kube, monitor, logs } = await monitorFor({
      env: { MONITOR_NAMESPACE: ns },
      logCenter: { url: proxy.state.url, token: lc.token },
    });
    const first = crashLooping(ns, dashed(project), 1, { workload: 'first' });
    kube.setPods(ns, [first.json]);

    proxy.state.down = true;
    expect(await monitor.scan()).toMatchObject({ outage: 'log-center', pods: 0 });
    expect(logs.find((l) => l.msg === 'cannot load the project list from Log Center')).toBeDefined();

    proxy.state.down = false;
    expect(await monitor.scan()).toMatchObject({ reported: 1 });

    // down between the mapping refresh and the report: the report is postponed, not dropped
    const second = crashLooping(ns, dashed(project), 1, { workload: 'second' });
    kube.setPods(ns, [first.json, second.json]);
    proxy.state.down = true;
    expect(await monitor.scan()).toMatchObject({ outage: 'log-center', unchanged: 1, reported: 0 });
    expect(logs.some((l) => l.msg === 'Log Center is unavailable; the rest of this scan is postponed')).toBe(
      true,
    );
    proxy.state.down = false;
    expect(await monitor.scan()).toMatchObject({ reported: 1, unchanged: 1 });
    expect((await deploymentBugs(lc, project)).map((b) => b.context.deployment_name).sort()).toEqual([
      'first',
      'second',
    ]);
  });

  it('backs off while an outage lasts and returns to the poll interval afterwards', async () => {
    const outages: ScanSummary['outage'][] = [
      'kubernetes',
      'log-center',
      'kubernetes',
      'kubernetes',
      undefined,
    ];
    const logs: LogFields[] = [];
    const stop = new AbortController();
    let scans = 0;
    const monitor = {
      scan: async (): Promise<ScanSummary> => {
        const outage = outages[scans++];
        if (scans === outages.length) stop.abort();
        return { ...emptySummary(), outage };
      },
    };
    await pollForever(monitor, {
      pollMs: 5,
      maxBackoffMs: 30,
      signal: stop.signal,
      logger: jsonLogger({ write: (line) => logs.push(JSON.parse(line)) }),
    });
    expect(scans).toBe(5);
    expect(logs.filter((l) => l.msg === 'backing off').map((l) => l.next_scan_in_ms)).toEqual([
      10, 20, 30, 30,
    ]);
  });
});
