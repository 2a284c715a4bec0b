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
  conflict: 409,
  project_limit: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unsupported_encoding: 415,
  rate_limited: 429,
  queue_full: 429,
  not_configured: 503,
  database_unreachable: 503,
  gitea_failed: 502,
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

export interface ErrorAnswer {
  status: ContentfulStatusCode;
  body: { error: { code: string; message: string; request_id: string } & Record<string, unknown> };
  headers: Record<string, string>;
  /** The message a client may see: the error's own, or a generic one for a 500. */
  message: string;
}

/**
 * The answer for any error: its status, the `{error:{code,message,request_id,...}}` body and
 * the headers its code implies. A 500 never echoes internals; the log line carries them,
 * keyed by request id. `onError` sends it; routes that must add headers of their own to every
 * answer (the Sentry endpoints) send it themselves.
 */
export function errorAnswer(error: unknown, where: { request_id: string; path: string }): ErrorAnswer {
  const { request_id } = where;
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.retryAfterSeconds);
    // The rest of an oversize body is never read, so the connection cannot carry another request.
    if (error.code === 'payload_too_large') headers.Connection = 'close';
    return {
      status: codeToStatus[error.code],
      body: { error: { code: error.code, message: error.message, request_id, ...error.extra } },
      headers,
      message: error.message,
    };
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = statusToCode[status] ?? 'http_error';
    return {
      status,
      body: { error: { code, message: error.message, request_id } },
      headers: {},
      message: error.message,
    };
  }
  console.error(JSON.stringify({ level: 'error', ...where, error: String(error) }));
  const message = 'Internal server error';
  return {
    status: 500,
    body: { error: { code: 'internal_error', message, request_id } },
    headers: {},
    message,
  };
}

/** Every non-2xx answer is `{error:{code,message,request_id,...}}`. */
export const onError: ErrorHandler<AppEnv> = (error, c) => {
  const request_id = c.get('requestId') ?? crypto.randomUUID();
  c.header('X-Request-Id', request_id);
  const answer = errorAnswer(error, { request_id, path: c.req.path });
  return c.json(answer.body, answer.status, answer.headers);
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
