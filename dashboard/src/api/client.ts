import type { ClientResponse, hc, InferRequestType, InferResponseType } from 'hono/client';
// Type-only: the dashboard gets the server's route types, never its code.
import type { AppType } from '../../../functions/app';
import type {
  BatchResult,
  NotificationPage,
  ReviewAction,
  ReviewRequest,
  ReviewSettings,
  TeamAlertSettings,
} from './review';

/** A failed API call, shaped after the server's `{error:{code,message,request_id}}` envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly { path: string; message: string }[] = [],
    readonly requestId: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const isUnauthorized = (error: unknown) => error instanceof ApiError && error.status === 401;

export interface ApiOptions {
  /** Origin of the API; empty means the page's own origin (the Node server serves both). */
  baseUrl: string;
  token: () => string | null;
  /** Called on every 401, so the session can drop a token the server no longer accepts. */
  onUnauthorized: () => void;
  fetch?: typeof fetch;
}

type Client = ReturnType<typeof hc<AppType>>;

interface CallArgs {
  param?: Record<string, string>;
  query?: Record<string, string | string[] | undefined>;
  json?: unknown;
}

/**
 * The part of `hc<AppType>()` the dashboard calls — `client.a.b[':id'].$put({ param, query, json })`
 * — under hc's own types. Why not hc itself: its request builder always bundles Hono's cookie
 * serializer (~1.5 KB minified) for an option the dashboard never uses, and the bundle has a
 * 60 KB gzip budget. Paths, query strings and bodies are built as hc builds them.
 */
function makeClient(options: ApiOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  // Bound, because a bare window.fetch called as a method of the options object throws.
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  function call(path: string[], { param = {}, query, json }: CallArgs = {}) {
    const method = path[path.length - 1]!.slice(1).toUpperCase();
    const segments = path.slice(0, -1).map((part) => (part[0] === ':' ? param[part.slice(1)] : part));
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item !== undefined) search.append(key, item);
      }
    }
    const token = options.token();
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    if (json !== undefined) headers['Content-Type'] = 'application/json';
    const queryString = String(search);
    const url = `${base}/${segments.join('/')}${queryString ? `?${queryString}` : ''}`;
    return send(url, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  }

  const route = (path: string[]): unknown =>
    new Proxy(() => {}, {
      // `then` stays undefined so that a route object is never mistaken for a promise.
      get: (_, key) => (typeof key === 'string' && key !== 'then' ? route([...path, key]) : undefined),
      apply: (_, __, [args]: [CallArgs?]) => call(path, args),
    });
  return { client: route([]) as Client, call };
}

type OkBody<R> = R extends ClientResponse<infer T, infer S, infer _F> ? (S extends 200 ? T : never) : never;

async function errorFrom(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as {
    error?: {
      code?: string;
      message?: string;
      details?: { path: string; message: string }[];
      request_id?: string;
    };
  } | null;
  const error = body?.error;
  return new ApiError(
    response.status,
    error?.code ?? `http_${response.status}`,
    error?.message ?? response.statusText ?? `HTTP ${response.status}`,
    error?.details ?? [],
    error?.request_id ?? null,
  );
}

export function createApi(options: ApiOptions) {
  const { client, call } = makeClient(options);

  async function read<R extends ClientResponse<unknown, number, string>>(
    request: Promise<R>,
  ): Promise<OkBody<R>> {
    return (await readAs(request as unknown as Promise<Response>)) as OkBody<R>;
  }

  async function readAs<T>(request: Promise<Response>): Promise<T> {
    let response: Response;
    try {
      response = await request;
    } catch (cause) {
      throw new ApiError(0, 'network_error', cause instanceof Error ? cause.message : String(cause));
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      if (response.status === 401) options.onUnauthorized();
      throw error;
    }
    return (await response.json()) as T;
  }

  const v1 = client.api.v1;
  return {
    // Pages at the server's default size; page 1 is the plain URL, as before pagination.
    listProjects: async (page: number) =>
      (await read(v1.projects.$get({ query: page > 1 ? { page: String(page) } : {} }))) as ProjectPage,
    getProject: async (id: string) => (await read(v1.projects[':id'].$get({ param: { id } }))) as Project,
    saveProject: async (id: string, json: ProjectUpdate) =>
      (await read(v1.projects[':id'].$put({ param: { id }, json: json as ServerProjectUpdate }))) as Project,
    listBugs: (query: BugQuery) => read(v1.bugs.$get({ query })),
    getBug: (id: number) => read(v1.bugs[':id'].$get({ param: { id: String(id) } })),
    setStatus: (id: number, json: StatusChange) =>
      read(v1.bugs[':id'].status.$put({ param: { id: String(id) }, json })),
    stats: (query: StatsQuery) => read(v1.dashboard.stats.$get({ query })),
    // The review cockpit and the message centre, with the shapes of api/review.ts.
    review: (id: number, json: ReviewRequest) =>
      readAs<ReviewAnswer>(call(['api', 'v1', 'bugs', String(id), 'review', '$post'], { json })),
    reviewBatch: (json: { ids: number[]; action: ReviewAction; note?: string }) =>
      readAs<{ results: BatchResult[] }>(call(['api', 'v1', 'bugs', 'review', '$post'], { json })),
    notifications: (query: { unread?: 'true'; page?: string; per_page?: string }) =>
      readAs<NotificationPage>(call(['api', 'v1', 'notifications', '$get'], { query })),
    markRead: (json: { ids: number[] } | { all: true }) =>
      readAs<{ updated: number; unread_count: number }>(
        call(['api', 'v1', 'notifications', 'read', '$post'], { json }),
      ),
  };
}

export type Api = ReturnType<typeof createApi>;

type ServerProjectUpdate = InferRequestType<Client['api']['v1']['projects'][':id']['$put']>['json'];
/** A project edit with the review settings and the team notification channels. */
export type ProjectUpdate = Omit<ServerProjectUpdate, 'alert_settings'> & {
  alert_settings?: (NonNullable<ServerProjectUpdate['alert_settings']> & TeamAlertSettings) | null;
  review_settings?: ReviewSettings;
};
export type BugQuery = InferRequestType<Client['api']['v1']['bugs']['$get']>['query'];
export type StatusChange = InferRequestType<Client['api']['v1']['bugs'][':id']['status']['$put']>['json'];
export type StatsQuery = InferRequestType<Client['api']['v1']['dashboard']['stats']['$get']>['query'];

export interface ProjectPage {
  items: Project[];
  total: number;
  page: number;
  page_size: number;
}
type ServerProject = InferResponseType<Client['api']['v1']['projects'][':id']['$get'], 200>;
export type Project = Omit<ServerProject, 'alert_settings'> & {
  alert_settings: ServerProject['alert_settings'] & TeamAlertSettings;
  review_settings?: ReviewSettings;
};
export type BugPage = InferResponseType<Client['api']['v1']['bugs']['$get'], 200>;
export type Bug = BugPage['items'][number];
export type BugDetail = InferResponseType<Client['api']['v1']['bugs'][':id']['$get'], 200>;
/** A row of a bug's review activity: cockpit actions, policy decisions, Gitea reviews and comments. */
export type Activity = BugDetail['activity'][number];
export interface ReviewAnswer {
  message: string;
  bug: Bug;
  activity: Activity[];
}
export type RepairReport = BugDetail['repair_reports'][number];
export type Occurrence = BugDetail['occurrences'][number];
export type StatusChangeRecord = BugDetail['history'][number];
export type Stats = InferResponseType<Client['api']['v1']['dashboard']['stats']['$get'], 200>;
