import { z } from 'zod';

/** The fields of a bug (docs/api.md) the agent reads; anything else the API sends is kept as is. */
export const BugSchema = z.looseObject({
  id: z.number().int(),
  project_id: z.string(),
  source: z.string(),
  level: z.string(),
  environment: z.string(),
  status: z.string(),
  error: z.looseObject({
    type: z.string(),
    message: z.string(),
    file_path: z.string().nullable(),
    line_number: z.number().int().nullable(),
    stack_trace: z.array(z.string()),
  }),
  context: z.record(z.string(), z.unknown()).default({}),
  version: z.string().nullish(),
  commit_hash: z.string().nullish(),
  occurrence_count: z.number().int().optional(),
  first_seen: z.string().optional(),
  last_seen: z.string().optional(),
  /** Set once a pull request was opened; with status FIXING it marks a review follow-up. */
  pr_number: z.number().int().nullish(),
  pr_url: z.string().nullish(),
  branch_name: z.string().nullish(),
});
export type Bug = z.infer<typeof BugSchema>;

/** The parts of `GET /api/v1/bugs/:id` that tell a review follow-up from a first repair. */
export const BugDetailSchema = z.looseObject({
  id: z.number().int(),
  history: z
    .array(
      z.looseObject({
        from_status: z.string().nullable(),
        to_status: z.string(),
        actor: z.string().nullish(),
        note: z.string().nullish(),
        at: z.string(),
      }),
    )
    .default([]),
  repair_reports: z.array(z.looseObject({ id: z.number().int(), created_at: z.string() })).default([]),
});
export type BugDetail = z.infer<typeof BugDetailSchema>;

/** One row of a bug's activity (reviews, comments, cockpit actions); docs/api.md. */
export const ActivitySchema = z.looseObject({
  id: z.number().int(),
  kind: z.string(),
  actor: z.string().nullish(),
  body: z.string().nullish(),
  data: z.record(z.string(), z.unknown()).nullish(),
  at: z.string(),
});
export type Activity = z.infer<typeof ActivitySchema>;

/** The most rows `GET /api/v1/bugs/:id/activity` answers at once. */
export const ACTIVITY_PAGE = 500;

export const ProjectSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  repo_url: z.string().nullish(),
  local_path: z.string().nullish(),
  description: z.string().nullish(),
  test_command: z.string().nullish(),
});
export type Project = z.infer<typeof ProjectSchema>;

export interface RepairReport {
  agent_id: string;
  analysis?: string;
  modified_files: string[];
  diff?: string;
  test_passed?: boolean;
  test_output?: string;
  branch_name?: string;
  pr_number?: number;
  pr_url?: string;
  duration_ms?: number;
  tokens_in?: number;
  tokens_out?: number;
  model?: string;
}

export interface PrInfo {
  pr_number: number;
  /** Left out: the bug keeps the one it has. */
  pr_url?: string;
  branch_name: string;
}

export class LogCenterError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LogCenterError';
  }
}

const itemsOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

export interface LogCenterClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The agent's side of the task endpoints in docs/api.md. Every call carries the bearer token. */
export class LogCenterClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: LogCenterClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  async claim(body: {
    agent_id: string;
    project_id?: string;
    source: 'runtime';
    limit: number;
    lease_seconds: number;
  }): Promise<Bug[]> {
    const answer = await this.call('POST', '/api/v1/tasks/claim', body);
    return itemsOf(BugSchema).parse(answer).items;
  }

  async project(id: string): Promise<Project> {
    return ProjectSchema.parse(await this.call('GET', `/api/v1/projects/${encodeURIComponent(id)}`));
  }

  async bugDetail(bugId: number): Promise<BugDetail> {
    return BugDetailSchema.parse(await this.call('GET', `/api/v1/bugs/${bugId}`));
  }

  /** Activity rows with an id above `afterId`, oldest first, at most ACTIVITY_PAGE of them. */
  async activity(bugId: number, afterId = 0): Promise<Activity[]> {
    const answer = await this.call('GET', `/api/v1/bugs/${bugId}/activity?after_id=${afterId}`);
    return itemsOf(ActivitySchema).parse(answer).items;
  }

  async addRepairReport(bugId: number, report: RepairReport): Promise<void> {
    await this.call('POST', `/api/v1/bugs/${bugId}/repair-reports`, report);
  }

  async setPrInfo(bugId: number, info: PrInfo): Promise<void> {
    await this.call('PUT', `/api/v1/bugs/${bugId}/pr-info`, info);
  }

  async setStatus(
    bugId: number,
    body: { status: 'PENDING_REVIEW' | 'FAILED'; note: string; actor: string },
  ): Promise<void> {
    await this.call('PUT', `/api/v1/bugs/${bugId}/status`, body);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${this.options.baseUrl}${path}`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers: {
          Authorization: `Bearer ${this.options.token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new LogCenterError(0, 'unreachable', `${method} ${path}: ${describe(error)}`);
    }
    const text = await res.text();
    const json = parseJson(text);
    if (!res.ok) {
      const envelope = z
        .object({ error: z.object({ code: z.string(), message: z.string() }) })
        .safeParse(json);
      const { code, message } = envelope.success
        ? envelope.data.error
        : { code: `http_${res.status}`, message: text.slice(0, 200) };
      throw new LogCenterError(res.status, code, `${method} ${path}: ${res.status} ${code}: ${message}`);
    }
    return json;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
