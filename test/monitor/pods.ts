/**
 * Pod objects shaped like kube-apiserver output (core/v1 Pod: metadata, spec, status with
 * containerStatuses[].state / lastState / restartCount). Field names and the kubelet's reason and
 * message strings follow the Kubernetes v1 Pod reference and real `kubectl get pod -o json` output.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        reason: string;
        message?: string;
        startedAt: string;
        finishedAt: string;
        containerID: string;
      };
    };

export interface ContainerSpec {
  name: string;
  image?: string;
  state: ContainerState;
  lastState?: ContainerState | Record<string, never>;
  restartCount?: number;
}

const ago = (seconds: number) =>
  new Date(Date.now() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const containerId = () => `containerd://${randomBytes(32).toString('hex')}`;

export const states = {
  running: (): ContainerState => ({ running: { startedAt: ago(30) } }),
  crashLoop: (name: string, pod: string, namespace: string, uid: string): ContainerState => ({
    waiting: {
      reason: 'CrashLoopBackOff',
      message: `back-off 5m0s restarting failed container=${name} pod=${pod}_${namespace}(${uid})`,
    },
  }),
  imagePullBackOff: (image: string): ContainerState => ({
    waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
  }),
  errImagePull: (image: string): ContainerState => ({
    waiting: {
      reason: 'ErrImagePull',
      message: `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`,
    },
  }),
  createContainerConfigError: (secret: string): ContainerState => ({
    waiting: { reason: 'CreateContainerConfigError', message: `secret "${secret}" not found` },
  }),
  runContainerError: (): ContainerState => ({
    waiting: {
      reason: 'RunContainerError',
      message:
        'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/start.sh": stat /app/start.sh: no such file or directory: unknown',
    },
  }),
  terminated: (reason: string, exitCode: number, finishedSecondsAgo = 20): ContainerState => ({
    terminated: {
      exitCode,
      reason,
      startedAt: ago(finishedSecondsAgo + 40),
      finishedAt: ago(finishedSecondsAgo),
      containerID: containerId(),
    },
  }),
};

export interface PodOptions {
  app?: string;
  namespace: string;
  /** `deployment` → owned by a ReplicaSet `<name>-<hash>`; `job` → owned by a Job; `none` → bare pod. */
  owner?: 'deployment' | 'job' | 'none';
  workload?: string;
  nodeName?: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  containers: (ContainerSpec | ((ids: { pod: string; uid: string }) => ContainerSpec))[];
  initContainers?: ContainerSpec[];
}

let sequence = 0;

export function pod(options: PodOptions): { name: string; uid: string; json: Record<string, unknown> } {
  const workload = options.workload ?? options.app ?? `workload-${sequence}`;
  const owner = options.owner ?? 'deployment';
  const hash = randomBytes(5).toString('hex').slice(0, 10);
  const suffix = randomBytes(3).toString('hex').slice(0, 5);
  const uid = randomUUID();
  const name =
    owner === 'deployment'
      ? `${workload}-${hash}-${suffix}`
      : owner === 'job'
        ? `${workload}-${suffix}`
        : workload;
  sequence++;

  const ownerReferences =
    owner === 'deployment'
      ? [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: `${workload}-${hash}`,
            uid: randomUUID(),
            controller: true,
            blockOwnerDeletion: true,
          },
        ]
      : owner === 'job'
        ? [
            {
              apiVersion: 'batch/v1',
              kind: 'Job',
              name: workload,
              uid: randomUUID(),
              controller: true,
              blockOwnerDeletion: true,
            },
          ]
        : undefined;

  const labels: Record<string, string> = {};
  if (options.app) labels.app = options.app;
  if (owner === 'deployment') labels['pod-template-hash'] = hash;
  if (owner === 'job') labels['batch.kubernetes.io/job-name'] = workload;

  const containers = options.containers.map((c) => (typeof c === 'function' ? c({ pod: name, uid }) : c));
  const status = (c: ContainerSpec) => {
    const image = c.image ?? `registry.example.com/${workload}:1.4.2`;
    const running = 'running' in c.state;
    return {
      name: c.name,
      state: c.state,
      lastState: c.lastState ?? {},
      ready: running,
      restartCount: c.restartCount ?? 0,
      image,
      imageID:
        running || 'terminated' in c.state
          ? `${image.split(':')[0]}@sha256:${randomBytes(32).toString('hex')}`
          : '',
      ...(running || 'terminated' in c.state ? { containerID: containerId() } : {}),
      started: running,
    };
  };

  const json: Record<string, unknown> = {
    metadata: {
      name,
      ...(owner === 'none' ? {} : { generateName: name.slice(0, name.length - suffix.length) }),
      namespace: options.namespace,
      uid,
      resourceVersion: String(100000 + sequence),
      creationTimestamp: ago(3600),
      labels,
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    spec: {
      ...(options.initContainers
        ? {
            initContainers: options.initContainers.map((c) => ({
              name: c.name,
              image: c.image ?? 'busybox:1.36',
            })),
          }
        : {}),
      containers: containers.map((c) => ({
        name: c.name,
        image: c.image ?? `registry.example.com/${workload}:1.4.2`,
        resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      })),
      restartPolicy: options.restartPolicy ?? (owner === 'job' ? 'Never' : 'Always'),
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName: options.nodeName ?? 'node-1',
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: options.phase ?? 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: ago(3600) },
        {
          type: 'Ready',
          status: 'False',
          lastProbeTime: null,
          lastTransitionTime: ago(600),
          reason: 'ContainersNotReady',
        },
      ],
      hostIP: '10.0.0.11',
      podIP: '10.42.0.17',
      podIPs: [{ ip: '10.42.0.17' }],
      startTime: ago(3600),
      ...(options.initContainers ? { initContainerStatuses: options.initContainers.map(status) } : {}),
      containerStatuses: containers.map(status),
      qosClass: 'Burstable',
    },
  };
  return { name, uid, json };
}

/** `count` numbered log lines, as a container would print them. */
export function logLines(prefix: string, count: number): string {
  return `${Array.from({ length: count }, (_, i) => `${prefix} line ${i + 1}`).join('\n')}\n`;
}
