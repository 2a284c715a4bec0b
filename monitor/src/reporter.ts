import { type Finding, findingMessage } from './detect';
import type { ProjectMatch, ProjectRef, ProjectSource } from './mapping';

/**
 * The body of `POST /api/v1/logs/report` (docs/api.md) for a deployment error, with the context
 * fields listed in monitor/README.md.
 */
export interface DeploymentReport {
  project_id: string;
  environment: string;
  level: 'CRITICAL';
  source: 'deployment';
  error: {
    type: string;
    message: string;
    file_path: null;
    line_number: null;
    stack_trace: string[];
  };
  context: {
    namespace: string;
    pod_name: string;
    container_name: string;
    deployment_name: string;
    restart_count: number;
    node_name: string | null;
    app_label: string | null;
    image: string | null;
    exit_code: number | null;
    init_container?: true;
  };
}

// Log lines can be arbitrarily long (minified JSON logs); capping them keeps a 50-line tail far
// below the ingestion body limit of 256 KiB.
const MAX_LINE_CHARS = 2000;

/** The last `lines` lines of a container log, each capped in length. */
export function logTail(log: string, lines: number): string[] {
  const all = log.split(/\r?\n/);
  if (all.at(-1) === '') all.pop();
  return all
    .slice(-lines)
    .map((line) =>
      line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… [line truncated]` : line,
    );
}

export function buildReport(
  finding: Finding,
  match: ProjectMatch,
  environment: string,
  logLines: string[],
): DeploymentReport {
  return {
    project_id: match.projectId,
    environment: match.dev ? 'development' : environment,
    level: 'CRITICAL',
    source: 'deployment',
    error: {
      type: finding.type,
      message: findingMessage(finding),
      file_path: null,
      line_number: null,
      stack_trace: logLines,
    },
    context: {
      namespace: finding.namespace,
      pod_name: finding.podName,
      container_name: finding.containerName,
      deployment_name: finding.deploymentName ?? finding.appLabel ?? finding.podName,
      restart_count: finding.restartCount,
      node_name: finding.nodeName ?? null,
      app_label: finding.appLabel ?? null,
      image: finding.image ?? null,
      exit_code: finding.exitCode ?? null,
      ...(finding.initContainer ? { init_container: true as const } : {}),
    },
  };
}

export interface RetryPolicy {
  /** Tries per request, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** Log Center could not be reached, or kept answering 5xx / 429, after every retry. */
export class LogCenterUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogCenterUnavailableError';
  }
}

/** Log Center answered with a client error that retrying will not fix (bad token, invalid body). */
export class LogCenterRejectedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'LogCenterRejectedError';
  }
}

export type ReportOutcome =
  | { kind: 'stored'; id: number; message: string; status?: string }
  | { kind: 'rejected'; status: number; code: string | undefined; message: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

async function errorEnvelope(res: Response): Promise<{ code?: string; message: string }> {
  const body = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
    const message = typeof parsed.error?.message === 'string' ? parsed.error.message : body.slice(0, 300);
    return { code, message };
  } catch {
    return { message: body.slice(0, 300) || res.statusText };
  }
}

export interface LogCenterClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  retry?: RetryPolicy;
  /** Injectable so tests do not wait for real back-off delays. */
  sleep?: (ms: number) => Promise<void>;
}

/** The two Log Center calls the monitor makes, with timeouts and bounded retries. */
export class LogCenterClient implements ProjectSource {
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: LogCenterClientOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.sleep = options.sleep ?? sleep;
  }

  /**
   * Sends the request, retrying network failures, timeouts, 5xx and 429 with exponential back-off
   * (honouring `Retry-After`). Any other answer is returned to the caller.
   */
  private async send(path: string, init: RequestInit): Promise<Response> {
    let lastProblem = 'no attempt made';
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      let wait: number | undefined;
      try {
        const res = await fetch(`${this.options.baseUrl}${path}`, {
          ...init,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        if (res.status < 500 && res.status !== 429) return res;
        lastProblem = `HTTP ${res.status} ${(await errorEnvelope(res)).message}`.trim();
        wait = retryAfterMs(res.headers.get('retry-after'));
      } catch (error) {
        lastProblem = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      if (attempt < this.retry.attempts) {
        const backoff = this.retry.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        await this.sleep(Math.min(wait ?? backoff, this.retry.maxDelayMs));
      }
    }
    throw new LogCenterUnavailableError(`${init.method ?? 'GET'} ${path} failed: ${lastProblem}`);
  }

  /**
   * `GET /api/v1/projects` → each project's id and ingest key, following the pages (the
   * server answers at most 200 a page); an answer without `page` is the whole list.
   */
  async listProjects(): Promise<ProjectRef[]> {
    const projects: ProjectRef[] = [];
    for (let page = 1, seen = 0; ; page++) {
      const path = `/api/v1/projects?page=${page}&page_size=200`;
      const res = await this.send(path, {
        headers: { Authorization: `Bearer ${this.options.token}`, Accept: 'application/json' },
      });
      if (!res.ok) {
        const { code, message } = await errorEnvelope(res);
        const hint = res.status === 401 || res.status === 403 ? ' (check LOG_CENTER_TOKEN)' : '';
        throw new LogCenterRejectedError(
          res.status,
          code,
          `GET ${path}: HTTP ${res.status} ${message}${hint}`,
        );
      }
      const body = (await res.json()) as { items?: unknown; total?: unknown; page?: unknown };
      if (!Array.isArray(body.items)) throw new Error(`GET ${path}: answer has no items array`);
      for (const item of body.items as { project_id?: unknown; id?: unknown; ingest_key?: unknown }[]) {
        const projectId = item?.project_id ?? item?.id;
        if (typeof projectId !== 'string' || projectId === '') continue;
        const ingestKey =
          typeof item.ingest_key === 'string' && item.ingest_key !== '' ? item.ingest_key : undefined;
        projects.push(ingestKey ? { projectId, ingestKey } : { projectId });
      }
      seen += body.items.length;
      const more = typeof body.page === 'number' && typeof body.total === 'number' && seen < body.total;
      if (!more || body.items.length === 0) return projects;
    }
  }

  /** `POST /api/v1/logs/report`. Throws only when Log Center is unavailable. */
  async report(body: DeploymentReport, ingestKey?: string): Promise<ReportOutcome> {
    const res = await this.send('/api/v1/logs/report', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        ...(ingestKey ? { 'X-Log-Center-Key': ingestKey } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      const { code, message } = await errorEnvelope(res);
      return { kind: 'rejected', status: res.status, code, message };
    }
    const answer = (await res.json().catch(() => ({}))) as {
      id?: unknown;
      message?: unknown;
      status?: unknown;
    };
    return {
      kind: 'stored',
      id: typeof answer.id === 'number' ? answer.id : -1,
      message: typeof answer.message === 'string' ? answer.message : '',
      ...(typeof answer.status === 'string' ? { status: answer.status } : {}),
    };
  }
}
