/**
 * Domain errors: what went wrong, in words a client can branch on. Services and routes throw
 * them; only `middleware/errors.ts` knows which HTTP status each code becomes, so no service
 * depends on HTTP and a code cannot answer two different statuses in two places.
 */
export const ERROR_CODES = [
  'bad_request',
  'invalid_json',
  'invalid_envelope',
  'invalid_encoding',
  'validation_failed',
  'unauthorized',
  'invalid_ingest_key',
  'invalid_signature',
  'not_found',
  'method_not_allowed',
  'request_timeout',
  'invalid_transition',
  'conflict',
  'project_limit',
  'payload_too_large',
  'unsupported_media_type',
  'unsupported_encoding',
  'rate_limited',
  'queue_full',
  'not_configured',
  'database_unreachable',
  'gitea_failed',
  'shutting_down',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra members of the answer's `error` object (`details`, `allowed`, ...). */
    readonly extra: Record<string, unknown> = {},
    /** For codes that ask the client to come back later. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const validationFailed = (details: FieldError[]) =>
  new AppError('validation_failed', 'Request failed validation', { details });

/** Parses a JSON body read as text (webhooks must keep the raw bytes) against a schema. */
export function parseJsonBody<T>(text: string, schema: { safeParse(value: unknown): ZodSafeParse<T> }): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('invalid_json', 'Body is not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationFailed(issuesToFieldErrors(parsed.error.issues));
  return parsed.data;
}

/** zod issues as the envelope's `details`: one entry per bad field. */
export function issuesToFieldErrors(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): FieldError[] {
  return issues.map((issue) => ({
    path: issue.path.length ? issue.path.map(String).join('.') : '(body)',
    message: issue.message,
  }));
}

type ZodSafeParse<T> =
  | { success: true; data: T }
  | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
