import { setTimeout as delay } from 'node:timers/promises';
import type { MonitorConfig, NamespaceScope } from './config';
import { detectPod, type Finding, podKeyOf } from './detect';
import { KubePodSource, loadKubeConfig, type PodSource } from './kube';
import { describeError, type Logger } from './log';
import { ProjectDirectory } from './mapping';
import {
  buildReport,
  type DeploymentReport,
  LogCenterClient,
  LogCenterUnavailableError,
  logTail,
  type ReportOutcome,
  type RetryPolicy,
} from './reporter';

export type MonitorMode = 'once' | 'poll';

export interface MonitorOptions {
  namespaces: NamespaceScope;
  environment: string;
  tailLines: number;
  /**
   * Poll mode keeps, per container, the restart count it last reported and stays quiet until that
   * count changes; `--once` runs are stateless and rely on Log Center's fingerprint de-duplication.
   */
  rememberRestarts: boolean;
  /** Passed to detection as `terminatedSince` = now − this window (see DetectOptions). */
  terminatedWindowMs?: number;
}

export interface ScanSummary {
  pods: number;
  findings: number;
  reported: number;
  /** Skipped because the container's restart count has not changed since it was reported. */
  unchanged: number;
  /** Skipped because the pod's app label maps to no Log Center project. */
  unmapped: number;
  /** Answered 4xx by Log Center (logged; not retried). */
  rejected: number;
  /** Namespaces whose pods could not be listed. */
  listFailures: number;
  /**
   * Set when the scan could not do its job: every listing failed, Log Center is down, or (`internal`)
   * an unexpected error. The poll loop backs off while it is set.
   */
  outage?: 'kubernetes' | 'log-center' | 'internal';
}

/** A summary before anything was scanned. */
export const emptySummary = (): ScanSummary => ({
  pods: 0,
  findings: 0,
  reported: 0,
  unchanged: 0,
  unmapped: 0,
  rejected: 0,
  listFailures: 0,
});

export interface Reporter {
  report(body: DeploymentReport, ingestKey?: string): Promise<ReportOutcome>;
}

export interface MonitorDeps {
  pods: PodSource;
  reporter: Reporter;
  directory: ProjectDirectory;
  logger: Logger;
  now?: () => Date;
}

/** One scan = list pods → detect failing containers → map to a project → attach logs → report. */
export class PodMonitor {
  private readonly reportedRestarts = new Map<string, number>();
  private readonly announcedUnmapped = new Set<string>();
  private readonly now: () => Date;

  constructor(
    private readonly deps: MonitorDeps,
    private readonly options: MonitorOptions,
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Never throws: every failure is logged and shows in the summary. */
  async scan(): Promise<ScanSummary> {
    const started = Date.now();
    const summary = emptySummary();
    try {
      await this.scanInto(summary);
    } catch (error) {
      // Only a programming error lands here; the next scan starts from scratch.
      this.deps.logger.error('scan failed unexpectedly', { error: describeError(error) });
      summary.outage ??= 'internal';
    }
    const level = summary.outage ? 'warn' : 'info';
    this.deps.logger[level]('scan finished', { ...summary, duration_ms: Date.now() - started });
    return summary;
  }

  private async scanInto(summary: ScanSummary): Promise<void> {
    const { logger, directory, pods } = this.deps;
    // Without the mapping nothing can be reported, so there is no point listing pods.
    try {
      await directory.ensureFresh();
    } catch (error) {
      logger.error('cannot load the project list from Log Center', { error: describeError(error) });
      summary.outage = 'log-center';
      return;
    }

    const listing = await pods.listPods(this.options.namespaces);
    summary.pods = listing.pods.length;
    summary.listFailures = listing.failures.length;
    for (const failure of listing.failures) {
      logger.error('cannot list pods', { namespace: failure.namespace, error: failure.error.message });
    }
    const attempted = this.options.namespaces === '*' ? 1 : this.options.namespaces.length;
    if (listing.failures.length >= attempted) {
      summary.outage = 'kubernetes';
      return;
    }

    const terminatedSince =
      this.options.terminatedWindowMs === undefined
        ? undefined
        : new Date(this.now().getTime() - this.options.terminatedWindowMs);
    const listedPods = new Set<string>();
    for (const pod of listing.pods) {
      let findings: Finding[];
      try {
        listedPods.add(podKeyOf(pod));
        findings = detectPod(pod, { terminatedSince });
      } catch (error) {
        logger.warn('skipping a pod object the monitor cannot read', { error: describeError(error) });
        continue;
      }
      for (const finding of findings) {
        summary.findings++;
        const outcome = await this.handle(finding);
        if (outcome === 'unavailable') {
          summary.outage = 'log-center';
          return;
        }
        summary[outcome]++;
      }
    }

    // Forget pods that no longer exist, but only after a listing that saw every namespace:
    // a pod missing from a failed listing is not gone.
    if (listing.failures.length === 0) {
      for (const key of this.reportedRestarts.keys()) {
        if (!listedPods.has(key.slice(0, key.lastIndexOf('/')))) this.reportedRestarts.delete(key);
      }
    }
  }

  private async handle(
    finding: Finding,
  ): Promise<'reported' | 'unchanged' | 'unmapped' | 'rejected' | 'unavailable'> {
    const { logger, directory, reporter } = this.deps;
    const key = `${finding.podKey}/${finding.containerName}`;
    if (this.options.rememberRestarts && this.reportedRestarts.get(key) === finding.restartCount) {
      return 'unchanged';
    }

    const match = finding.appLabel ? directory.resolve(finding.appLabel) : undefined;
    if (!match) {
      const subject = finding.appLabel
        ? `app:${finding.appLabel}`
        : `pod:${finding.namespace}/${finding.podName}`;
      if (!this.announcedUnmapped.has(subject)) {
        // Unlabelled pods come and go (Jobs); forgetting now and then only repeats a warning.
        if (this.announcedUnmapped.size >= 10_000) this.announcedUnmapped.clear();
        this.announcedUnmapped.add(subject);
        logger.warn(
          finding.appLabel
            ? 'no Log Center project for this app label; its pods are skipped'
            : 'pod has no app label; skipped',
          {
            app_label: finding.appLabel ?? null,
            namespace: finding.namespace,
            pod: finding.podName,
            type: finding.type,
          },
        );
      }
      return 'unmapped';
    }

    const logLines = await this.logTail(finding);
    const body = buildReport(finding, match, this.options.environment, logLines);
    let outcome: ReportOutcome;
    try {
      outcome = await reporter.report(body, match.ingestKey);
    } catch (error) {
      if (!(error instanceof LogCenterUnavailableError)) throw error;
      logger.error('Log Center is unavailable; the rest of this scan is postponed', { error: error.message });
      return 'unavailable';
    }

    const fields = {
      project_id: body.project_id,
      type: finding.type,
      namespace: finding.namespace,
      pod: finding.podName,
      container: finding.containerName,
      restart_count: finding.restartCount,
    };
    // A rejected report would be rejected again, so it counts as handled for this restart count too.
    this.reportedRestarts.set(key, finding.restartCount);
    if (outcome.kind === 'rejected') {
      logger.error('Log Center rejected the report', {
        ...fields,
        status: outcome.status,
        code: outcome.code,
        error: outcome.message,
      });
      return 'rejected';
    }
    logger.info('deployment error reported', { ...fields, bug_id: outcome.id, result: outcome.message });
    return 'reported';
  }

  /** The crashed container's last lines: previous instance first, the current one as fallback. */
  private async logTail(finding: Finding): Promise<string[]> {
    const attempts =
      finding.logSource === 'previous' ? [true, false] : finding.logSource === 'current' ? [false] : [];
    for (const previous of attempts) {
      try {
        const log = await this.deps.pods.readLog(finding.namespace, finding.podName, finding.containerName, {
          previous,
          tailLines: this.options.tailLines,
        });
        const lines = logTail(log, this.options.tailLines);
        if (lines.length > 0) return lines;
      } catch (error) {
        // 400 is the API server saying that instance has no log (never started, already rotated away).
        const status = (error as { status?: number }).status;
        this.deps.logger[status === 400 || status === 404 ? 'debug' : 'warn']('container log unavailable', {
          namespace: finding.namespace,
          pod: finding.podName,
          container: finding.containerName,
          previous,
          error: describeError(error),
        });
      }
    }
    return [];
  }
}

export interface PollOptions {
  pollMs: number;
  /** Upper bound for the back-off after consecutive outages (never below pollMs). */
  maxBackoffMs?: number;
  signal: AbortSignal;
  logger: Logger;
}

/** The long-running loop: scan, wait, repeat; waits longer (doubling) while Kubernetes or Log Center is down. */
export async function pollForever(monitor: Pick<PodMonitor, 'scan'>, options: PollOptions): Promise<void> {
  const ceiling = Math.max(options.pollMs, options.maxBackoffMs ?? 10 * 60_000);
  let outages = 0;
  while (!options.signal.aborted) {
    const summary = await monitor.scan();
    outages = summary.outage ? outages + 1 : 0;
    const waitMs = outages === 0 ? options.pollMs : Math.min(options.pollMs * 2 ** outages, ceiling);
    if (outages > 0) options.logger.warn('backing off', { outage: summary.outage, next_scan_in_ms: waitMs });
    try {
      await delay(waitMs, undefined, { signal: options.signal });
    } catch {
      // aborted: leave the loop
    }
  }
}

/** Wires the real collaborators from the configuration, as `main.ts` and the tests do. */
export function createMonitor(
  config: MonitorConfig,
  mode: MonitorMode,
  logger: Logger,
  overrides: { retry?: RetryPolicy; sleep?: (ms: number) => Promise<void> } = {},
): { monitor: PodMonitor; kubernetes: { source: string; server: string | undefined } } {
  const { kubeConfig, source } = loadKubeConfig();
  const timeoutMs = config.REQUEST_TIMEOUT_SECONDS * 1000;
  const logCenter = new LogCenterClient({
    baseUrl: config.LOG_CENTER_URL,
    token: config.LOG_CENTER_TOKEN,
    timeoutMs,
    retry: overrides.retry,
    sleep: overrides.sleep,
  });
  const monitor = new PodMonitor(
    {
      pods: new KubePodSource(kubeConfig, timeoutMs),
      reporter: logCenter,
      directory: new ProjectDirectory(logCenter, config.PROJECTS_REFRESH_SECONDS * 1000, logger),
      logger,
    },
    {
      namespaces: config.MONITOR_NAMESPACE,
      environment: config.ENVIRONMENT,
      tailLines: config.LOG_TAIL_LINES,
      rememberRestarts: mode === 'poll',
      // One schedule interval plus a minute of slack for CronJob start jitter.
      terminatedWindowMs: mode === 'once' ? config.POLL_SECONDS * 1000 + 60_000 : undefined,
    },
  );
  return { monitor, kubernetes: { source, server: kubeConfig.getCurrentCluster()?.server } };
}
