import { type ClientResponse, hc, type InferRequestType, type InferResponseType } from 'hono/client';
// Type-only: the dashboard gets the server's route types, never its code.
import type { AppType } from '../../../functions/app';

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

const makeClient = (options: ApiOptions) =>
  hc<AppType>(options.baseUrl, {
    headers: (): Record<string, string> => {
      const token = options.token();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    // Bound, because a bare window.fetch called as a method of the options object throws.
    fetch: options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)),
  });

type Client = ReturnType<typeof makeClient>;

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
  const client = makeClient(options);

  async function read<R extends ClientResponse<unknown, number, string>>(
    call: Promise<R>,
  ): Promise<OkBody<R>> {
    let response: Response;
    try {
      response = (await call) as unknown as Response;
    } catch (cause) {
      throw new ApiError(0, 'network_error', cause instanceof Error ? cause.message : String(cause));
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      if (response.status === 401) options.onUnauthorized();
      throw error;
    }
    return (await response.json()) as OkBody<R>;
  }

  const v1 = client.api.v1;
  return {
    listProjects: () => read(v1.projects.$get()),
    getProject: (id: string) => read(v1.projects[':id'].$get({ param: { id } })),
    saveProject: (id: string, json: ProjectUpdate) => read(v1.projects[':id'].$put({ param: { id }, json })),
    listBugs: (query: BugQuery) => read(v1.bugs.$get({ query })),
    getBug: (id: number) => read(v1.bugs[':id'].$get({ param: { id: String(id) } })),
    setStatus: (id: number, json: StatusChange) =>
      read(v1.bugs[':id'].status.$put({ param: { id: String(id) }, json })),
    stats: (query: StatsQuery) => read(v1.dashboard.stats.$get({ query })),
  };
}

export type Api = ReturnType<typeof createApi>;

export type ProjectUpdate = InferRequestType<Client['api']['v1']['projects'][':id']['$put']>['json'];
export type BugQuery = InferRequestType<Client['api']['v1']['bugs']['$get']>['query'];
export type StatusChange = InferRequestType<Client['api']['v1']['bugs'][':id']['status']['$put']>['json'];
export type StatsQuery = InferRequestType<Client['api']['v1']['dashboard']['stats']['$get']>['query'];

export type Project = InferResponseType<Client['api']['v1']['projects'][':id']['$get'], 200>;
export type BugPage = InferResponseType<Client['api']['v1']['bugs']['$get'], 200>;
export type Bug = BugPage['items'][number];
export type BugDetail = InferResponseType<Client['api']['v1']['bugs'][':id']['$get'], 200>;
export type RepairReport = BugDetail['repair_reports'][number];
export type Occurrence = BugDetail['occurrences'][number];
export type StatusChangeRecord = BugDetail['history'][number];
export type Stats = InferResponseType<Client['api']['v1']['dashboard']['stats']['$get'], 200>;
