import type { V1ContainerStateTerminated, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

/** Container states reported as deployment errors; each becomes the report's `error.type`. */
export const FINDING_TYPES = [
  'CrashLoopBackOff',
  'OOMKilled',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'RunContainerError',
  'Error',
] as const;
export type FindingType = (typeof FINDING_TYPES)[number];

const WAITING_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'RunContainerError',
]);

/** Kubelet messages are usually present; these stand in when one is missing. */
const FALLBACK_DETAIL: Record<string, (image: string) => string> = {
  CrashLoopBackOff: () => 'back-off restarting failed container',
  ImagePullBackOff: (image) => `back-off pulling image "${image}"`,
  ErrImagePull: (image) => `failed to pull image "${image}"`,
  CreateContainerConfigError: () => 'the container configuration is invalid',
  RunContainerError: () => 'the container runtime could not start the container',
};

/**
 * Which container instance holds the log worth attaching:
 * `previous` — the one that crashed before the current restart (current as fallback);
 * `current` — the container is terminated and is itself the one that failed;
 * `none` — it never started, so the API server has no log for it.
 */
export type LogSource = 'previous' | 'current' | 'none';

export interface Finding {
  type: FindingType;
  /** Human-readable detail without the pod/container suffix. */
  detail: string;
  namespace: string;
  podName: string;
  /** Stable identity across scans; the namespace/name pair when the uid is missing. */
  podKey: string;
  containerName: string;
  initContainer: boolean;
  appLabel: string | undefined;
  deploymentName: string | undefined;
  restartCount: number;
  nodeName: string | undefined;
  image: string | undefined;
  exitCode: number | undefined;
  logSource: LogSource;
}

export interface DetectOptions {
  /**
   * Terminations that finished before this moment are ignored. The stateless `--once` mode sets it to
   * one schedule interval back, so a container that was OOM-killed an hour ago and has run fine since
   * is not reported again by every CronJob run. A termination without a finish time always counts.
   */
  terminatedSince?: Date;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.trunc(value) : 0;

const stringMap = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

/**
 * The workload name used in the fingerprint: a Deployment's pods are owned by a ReplicaSet named
 * `<deployment>-<pod-template-hash>`, so stripping the hash gives the Deployment; anything else
 * (StatefulSet, Job, bare pod) falls back to the `app` label.
 */
export function deploymentNameOf(pod: V1Pod): string | undefined {
  const labels = stringMap(pod.metadata?.labels);
  const owners = list<{ kind?: unknown; name?: unknown }>(pod.metadata?.ownerReferences);
  const replicaSet = text(owners.find((owner) => owner?.kind === 'ReplicaSet' && text(owner.name))?.name);
  if (replicaSet) {
    const hash = text(labels['pod-template-hash']);
    return hash && replicaSet.endsWith(`-${hash}`) ? replicaSet.slice(0, -(hash.length + 1)) : replicaSet;
  }
  return text(labels.app);
}

/** The identity a pod keeps across scans: its uid, or namespace/name when the uid is missing. */
export function podKeyOf(pod: V1Pod): string {
  return (
    text(pod?.metadata?.uid) ?? `${text(pod?.metadata?.namespace) ?? 'default'}/${text(pod?.metadata?.name)}`
  );
}

function finishedBefore(terminated: V1ContainerStateTerminated, since: Date | undefined): boolean {
  if (!since) return false;
  const finished = terminated.finishedAt ? new Date(terminated.finishedAt).getTime() : Number.NaN;
  return Number.isFinite(finished) && finished < since.getTime();
}

function exitDetail(terminated: V1ContainerStateTerminated, what: string): string {
  const exitCode = typeof terminated.exitCode === 'number' ? ` (exit code ${terminated.exitCode})` : '';
  const message = text(terminated.message);
  return `${what}${exitCode}${message ? `: ${message}` : ''}`;
}

type Classified = Pick<Finding, 'type' | 'detail' | 'logSource'> & { exitCode?: number };

function classify(status: V1ContainerStatus, options: DetectOptions): Classified | undefined {
  const waiting = status.state?.waiting;
  const terminated = status.state?.terminated;
  const last = status.lastState?.terminated;
  const waitingReason = text(waiting?.reason);
  const image = text(status.image) ?? 'unknown image';
  const hasRun = count(status.restartCount) > 0 || Boolean(last);

  if (terminated) {
    if (finishedBefore(terminated, options.terminatedSince)) return undefined;
    if (terminated.reason === 'OOMKilled') {
      const detail = exitDetail(terminated, 'container was killed for exceeding its memory limit');
      return { type: 'OOMKilled', detail, logSource: 'current', exitCode: terminated.exitCode };
    }
    if (terminated.reason === 'Error') {
      const detail = exitDetail(terminated, 'container exited with an error');
      return { type: 'Error', detail, logSource: 'current', exitCode: terminated.exitCode };
    }
    return undefined;
  }

  if (waitingReason && WAITING_REASONS.has(waitingReason)) {
    const detail = text(waiting?.message) ?? FALLBACK_DETAIL[waitingReason]!(image);
    // A crash loop caused by the memory limit is reported by its cause: raising the limit is the fix.
    if (waitingReason === 'CrashLoopBackOff' && last?.reason === 'OOMKilled') {
      const oom = exitDetail(last, 'container was killed for exceeding its memory limit');
      return {
        type: 'OOMKilled',
        detail: `${oom}; ${detail}`,
        logSource: 'previous',
        exitCode: last.exitCode,
      };
    }
    return {
      type: waitingReason as FindingType,
      detail,
      logSource: hasRun ? 'previous' : 'none',
      exitCode: last?.exitCode,
    };
  }

  // Running (or starting) again after an OOM kill: the kill is only visible in lastState.
  if (last?.reason === 'OOMKilled' && !finishedBefore(last, options.terminatedSince)) {
    const detail = exitDetail(last, 'container was killed for exceeding its memory limit and restarted');
    return { type: 'OOMKilled', detail, logSource: 'previous', exitCode: last.exitCode };
  }
  return undefined;
}

/**
 * The deployment errors visible in one pod, one per failing container. Pure and total: fields the API
 * server may omit, or a malformed object, yield fewer findings, never an exception.
 */
export function detectPod(pod: V1Pod, options: DetectOptions = {}): Finding[] {
  const namespace = text(pod?.metadata?.namespace) ?? 'default';
  const podName = text(pod?.metadata?.name);
  if (!podName) return [];
  const labels = stringMap(pod.metadata?.labels);
  const statuses = [
    ...list<V1ContainerStatus>(pod.status?.initContainerStatuses).map((status) => ({ status, init: true })),
    ...list<V1ContainerStatus>(pod.status?.containerStatuses).map((status) => ({ status, init: false })),
  ];
  const findings: Finding[] = [];
  for (const { status, init } of statuses) {
    const containerName = text(status?.name);
    if (!containerName) continue;
    const classified = classify(status, options);
    if (!classified) continue;
    findings.push({
      ...classified,
      namespace,
      podName,
      podKey: podKeyOf(pod),
      containerName,
      initContainer: init,
      appLabel: text(labels.app),
      deploymentName: deploymentNameOf(pod),
      restartCount: count(status.restartCount),
      nodeName: text(pod.spec?.nodeName),
      image: text(status.image),
      exitCode: typeof classified.exitCode === 'number' ? classified.exitCode : undefined,
    });
  }
  return findings;
}

/** The report's `error.message`: the state and its detail, then the pod and container, so it reads alone. */
export function findingMessage(finding: Finding): string {
  return `${finding.type}: ${finding.detail} (pod: ${finding.podName}, container: ${finding.containerName})`;
}
