import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface FieldError {
  path: string;
  message: string;
}

/** The one error type routes throw; `app.onError` turns it into the `{error:{...}}` envelope. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }
}

export const badRequest = (code: string, message: string) => new ApiError(400, code, message);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const validationFailed = (details: FieldError[]) =>
  new ApiError(422, 'validation_failed', 'Request failed validation', { details });

/** Parses a JSON body read as text (webhooks must keep the raw bytes) against a schema: 400 or 422. */
export function parseJsonBody<T>(text: string, schema: { safeParse(value: unknown): ZodSafeParse<T> }): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'Body is not valid JSON');
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
