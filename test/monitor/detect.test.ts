import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deploymentNameOf, detectPod, findingMessage } from '../../monitor/src/detect';
import { pod, states } from './pods';

// Pod JSON from the API server already uses the model's camelCase names; only timestamps differ
// (strings here, Date objects after the client deserialises), and detection accepts both.
const asPod = (json: unknown) => json as V1Pod;

describe('detectPod', () => {
  it('reports nothing for healthy, completed and pending pods', () => {
    const healthy = pod({
      app: 'web',
      namespace: 'ns',
      containers: [{ name: 'web', state: states.running() }],
    });
    const completed = pod({
      app: 'job',
      namespace: 'ns',
      owner: 'job',
      phase: 'Succeeded',
      containers: [{ name: 'job', state: states.terminated('Completed', 0) }],
    });
    const creating = pod({
      app: 'web',
      namespace: 'ns',
      phase: 'Pending',
      containers: [{ name: 'web', state: { waiting: { reason: 'ContainerCreating' } } }],
    });
    expect(detectPod(asPod(healthy.json))).toEqual([]);
    expect(detectPod(asPod(completed.json))).toEqual([]);
    expect(detectPod(asPod(creating.json))).toEqual([]);
  });

  it('reports a crash loop with the fields the report needs', () => {
    const p = pod({
      app: 'rtc-backend',
      namespace: 'prod',
      nodeName: 'node-7',
      containers: [
        ({ pod, uid }) => ({
          name: 'api',
          state: states.crashLoop('api', pod, 'prod', uid),
          lastState: states.terminated('Error', 1),
          restartCount: 5,
        }),
      ],
    });
    const [finding, ...rest] = detectPod(asPod(p.json));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      type: 'CrashLoopBackOff',
      namespace: 'prod',
      podName: p.name,
      podKey: p.uid,
      containerName: 'api',
      appLabel: 'rtc-backend',
      deploymentName: 'rtc-backend',
      restartCount: 5,
      nodeName: 'node-7',
      exitCode: 1,
      logSource: 'previous',
      initContainer: false,
    });
    expect(findingMessage(finding!)).toBe(
      `CrashLoopBackOff: back-off 5m0s restarting failed container=api pod=${p.name}_prod(${p.uid}) (pod: ${p.name}, container: api)`,
    );
  });

  it('classifies every waiting reason the monitor watches', () => {
    const image = 'registry.example.com/web:missing';
    const cases = [
      [states.imagePullBackOff(image), 'ImagePullBackOff', `Back-off pulling image "${image}"`],
      [states.errImagePull(image), 'ErrImagePull', 'failed to pull and unpack image'],
      [
        states.createContainerConfigError('web-secrets'),
        'CreateContainerConfigError',
        'secret "web-secrets" not found',
      ],
      [states.runContainerError(), 'RunContainerError', 'exec: "/app/start.sh"'],
    ] as const;
    for (const [state, type, detail] of cases) {
      const p = pod({ app: 'web', namespace: 'ns', containers: [{ name: 'web', image, state }] });
      const [finding] = detectPod(asPod(p.json));
      expect(finding?.type).toBe(type);
      expect(finding?.detail).toContain(detail);
      // never started: there is no log to fetch
      expect(finding?.logSource).toBe('none');
    }
  });

  it('falls back to a description when the kubelet gave no message', () => {
    const p = pod({
      app: 'web',
      namespace: 'ns',
      containers: [{ name: 'web', image: 'r/web:9', state: { waiting: { reason: 'ImagePullBackOff' } } }],
    });
    expect(detectPod(asPod(p.json))[0]?.detail).toBe('back-off pulling image "r/web:9"');
  });

  it('reports OOMKilled from the current state, from lastState behind a crash loop, and after a restart', () => {
    const now = pod({
      app: 'a',
      namespace: 'ns',
      containers: [{ name: 'a', state: states.terminated('OOMKilled', 137), restartCount: 2 }],
    });
    const looping = pod({
      app: 'b',
      namespace: 'ns',
      containers: [
        ({ pod, uid }) => ({
          name: 'b',
          state: states.crashLoop('b', pod, 'ns', uid),
          lastState: states.terminated('OOMKilled', 137),
          restartCount: 4,
        }),
      ],
    });
    const recovered = pod({
      app: 'c',
      namespace: 'ns',
      containers: [
        {
          name: 'c',
          state: states.running(),
          lastState: states.terminated('OOMKilled', 137),
          restartCount: 1,
        },
      ],
    });
    const [a] = detectPod(asPod(now.json));
    const [b] = detectPod(asPod(looping.json));
    const [c] = detectPod(asPod(recovered.json));
    expect(a).toMatchObject({ type: 'OOMKilled', exitCode: 137, logSource: 'current', restartCount: 2 });
    expect(a?.detail).toBe('container was killed for exceeding its memory limit (exit code 137)');
    expect(b).toMatchObject({ type: 'OOMKilled', exitCode: 137, logSource: 'previous', restartCount: 4 });
    expect(b?.detail).toContain('back-off 5m0s restarting failed container=b');
    expect(c).toMatchObject({ type: 'OOMKilled', logSource: 'previous', restartCount: 1 });
  });

  it('reports a container that exited with an error, from its own (current) log', () => {
    const p = pod({
      app: 'migrate',
      namespace: 'ns',
      owner: 'job',
      workload: 'migrate-29034710',
      phase: 'Failed',
      containers: [{ name: 'migrate', state: states.terminated('Error', 2) }],
    });
    const [finding] = detectPod(asPod(p.json));
    expect(finding).toMatchObject({
      type: 'Error',
      exitCode: 2,
      logSource: 'current',
      deploymentName: 'migrate',
    });
    expect(findingMessage(finding!)).toBe(
      `Error: container exited with an error (exit code 2) (pod: ${p.name}, container: migrate)`,
    );
  });

  it('ignores terminations older than terminatedSince, but never a waiting state', () => {
    const since = new Date(Date.now() - 5 * 60_000);
    const oldOom = pod({
      app: 'a',
      namespace: 'ns',
      containers: [
        {
          name: 'a',
          state: states.running(),
          lastState: states.terminated('OOMKilled', 137, 3600),
          restartCount: 1,
        },
      ],
    });
    const oldError = pod({
      app: 'b',
      namespace: 'ns',
      owner: 'job',
      containers: [{ name: 'b', state: states.terminated('Error', 1, 3600) }],
    });
    const freshError = pod({
      app: 'c',
      namespace: 'ns',
      owner: 'job',
      containers: [{ name: 'c', state: states.terminated('Error', 1, 60) }],
    });
    const oldLoop = pod({
      app: 'd',
      namespace: 'ns',
      containers: [
        ({ pod, uid }) => ({
          name: 'd',
          state: states.crashLoop('d', pod, 'ns', uid),
          lastState: states.terminated('Error', 1, 3600),
          restartCount: 9,
        }),
      ],
    });
    expect(detectPod(asPod(oldOom.json), { terminatedSince: since })).toEqual([]);
    expect(detectPod(asPod(oldError.json), { terminatedSince: since })).toEqual([]);
    expect(detectPod(asPod(freshError.json), { terminatedSince: since })).toHaveLength(1);
    expect(detectPod(asPod(oldLoop.json), { terminatedSince: since })).toHaveLength(1);
    // without a window (poll mode) the old OOM kill is reported once; restart counts de-duplicate it
    expect(detectPod(asPod(oldOom.json))).toHaveLength(1);
  });

  it('reports failing init containers and every failing container of a pod', () => {
    const p = pod({
      app: 'web',
      namespace: 'ns',
      phase: 'Pending',
      initContainers: [
        {
          name: 'wait-db',
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: states.terminated('Error', 1),
          restartCount: 3,
        },
      ],
      containers: [
        { name: 'web', state: { waiting: { reason: 'PodInitializing' } } },
        { name: 'sidecar', state: states.imagePullBackOff('r/sidecar:bad') },
      ],
    });
    const findings = detectPod(asPod(p.json));
    expect(findings.map((f) => [f.containerName, f.type, f.initContainer])).toEqual([
      ['wait-db', 'CrashLoopBackOff', true],
      ['sidecar', 'ImagePullBackOff', false],
    ]);
  });

  it('never throws on odd pod objects', () => {
    const odd: unknown[] = [
      null,
      {},
      { metadata: {} },
      { metadata: { name: 'x' } },
      { metadata: { name: 'x' }, status: {} },
      { metadata: { name: 'x' }, status: { containerStatuses: null } },
      { metadata: { name: 'x' }, status: { containerStatuses: 'nope' } },
      {
        metadata: { name: 'x', labels: 'app=x', ownerReferences: {} },
        status: { containerStatuses: [null, 1, 'a', {}] },
      },
      { metadata: { name: 'x' }, status: { containerStatuses: [{ name: 'c', state: null, lastState: 7 }] } },
      {
        metadata: { name: 'x' },
        status: { containerStatuses: [{ name: 'c', state: { waiting: null, terminated: 'x' } }] },
      },
      {
        metadata: { name: 'x' },
        status: { containerStatuses: [{ name: 'c', state: { waiting: { reason: 42 } } }] },
      },
    ];
    for (const json of odd) expect(() => detectPod(asPod(json))).not.toThrow();

    const weird = asPod({
      metadata: { name: 'x', labels: { app: 'x' } },
      status: {
        containerStatuses: [
          {
            name: 'c',
            restartCount: 'many',
            state: { terminated: { reason: 'OOMKilled', finishedAt: 'not a date' } },
          },
        ],
      },
    });
    expect(detectPod(weird)).toMatchObject([
      { type: 'OOMKilled', restartCount: 0, namespace: 'default', podKey: 'default/x', exitCode: undefined },
    ]);
  });
});

describe('deploymentNameOf', () => {
  it('strips the pod-template-hash from the owning ReplicaSet', () => {
    const p = pod({ app: 'label-differs', workload: 'rtc-backend', namespace: 'ns', containers: [] });
    expect(deploymentNameOf(asPod(p.json))).toBe('rtc-backend');
  });

  it('keeps a ReplicaSet name that does not end in the hash', () => {
    expect(
      deploymentNameOf(
        asPod({
          metadata: {
            labels: { app: 'a' },
            ownerReferences: [{ kind: 'ReplicaSet', name: 'standalone-rs' }],
          },
        }),
      ),
    ).toBe('standalone-rs');
  });

  it('uses the app label for other owners and bare pods', () => {
    const job = pod({
      app: 'nightly',
      workload: 'nightly-29034710',
      owner: 'job',
      namespace: 'ns',
      containers: [],
    });
    const bare = pod({
      app: 'debug',
      workload: 'debug-shell',
      owner: 'none',
      namespace: 'ns',
      containers: [],
    });
    expect(deploymentNameOf(asPod(job.json))).toBe('nightly');
    expect(deploymentNameOf(asPod(bare.json))).toBe('debug');
    expect(deploymentNameOf(asPod({ metadata: {} }))).toBeUndefined();
  });
});
