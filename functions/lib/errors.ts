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
