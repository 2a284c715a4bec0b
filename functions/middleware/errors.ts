import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../env';
import { AppError, type ErrorCode } from '../lib/errors';

/** The one place a domain error becomes an HTTP status. */
export const codeToStatus: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  invalid_json: 400,
  invalid_envelope: 400,
  invalid_encoding: 400,
  validation_failed: 422,
  unauthorized: 401,
  invalid_ingest_key: 401,
  invalid_signature: 401,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  invalid_transition: 409,
  project_limit: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unsupported_encoding: 415,
  rate_limited: 429,
  queue_full: 429,
  not_configured: 503,
  database_unreachable: 503,
  shutting_down: 503,
  internal_error: 500,
};

/** Hono's own exceptions (a malformed JSON body in a validator, say) carry a status, not a code. */
const statusToCode: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

function headersFor(error: AppError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.retryAfterSeconds);
  if (error.code === 'unauthorized') headers['WWW-Authenticate'] = 'Bearer';
  // The rest of an oversize body is never read, so the connection cannot carry another request.
  if (error.code === 'payload_too_large') headers.Connection = 'close';
  return headers;
}

/** Every non-2xx answer is `{error:{code,message,request_id,...}}`. */
export const onError: ErrorHandler<AppEnv> = (error, c) => {
  const request_id = c.get('requestId') ?? crypto.randomUUID();
  c.header('X-Request-Id', request_id);
  if (error instanceof AppError) {
    return c.json(
      { error: { code: error.code, message: error.message, request_id, ...error.extra } },
      codeToStatus[error.code],
      headersFor(error),
    );
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return c.json(
      { error: { code: statusToCode[status] ?? 'http_error', message: error.message, request_id } },
      status,
    );
  }
  // A 500 never echoes internals; the log line carries them, keyed by request id.
  console.error(JSON.stringify({ level: 'error', request_id, path: c.req.path, error: String(error) }));
  return c.json({ error: { code: 'internal_error', message: 'Internal server error', request_id } }, 500);
};

export const notFoundRoute: NotFoundHandler<AppEnv> = (c: Context<AppEnv>) =>
  c.json(
    {
      error: {
        code: 'not_found',
        message: `No route for ${c.req.method} ${c.req.path}`,
        request_id: c.get('requestId'),
      },
    },
    404,
  );
