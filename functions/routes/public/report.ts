import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../lib/env';
import { ApiError, validationFailed } from '../lib/errors';
import { safeEqual } from '../lib/secrets';
import { nowIso } from '../lib/time';
import { hasAlertTarget } from '../services/alerts';
import { ingestAnswer } from '../services/ingest';
import { parseJsonLenient } from '../services/json-repair';
import { LIMITS, normaliseReport } from '../services/report';
import { errorResponse, json } from './schemas';

export const REPORT_PATH = '/api/v1/logs/report';

export const reportRoutes = new OpenAPIHono<AppEnv>();

const tooLarge = () =>
  // The rest of the body is never read, so the connection cannot carry another request.
  new ApiError(
    413,
    'payload_too_large',
    `Body exceeds ${LIMITS.bodyBytes} bytes (256 KiB)`,
    {},
    { Connection: 'close' },
  );

/** Reads a body of unknown length (chunked) without ever holding more than the limit. */
async function readLimited(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/**
 * The hot path is a plain handler, no middleware: wrapping the body stream (body-limit)
 * or rewriting the response headers afterwards (cors) each cost several times the
 * handler's own work under load. Preflight is answered by the cors middleware in app.ts.
 */
reportRoutes.post(REPORT_PATH, async (c) => {
  const { deps } = c.var;
  // Reports come from any page: sendBeacon sends credentials, so the origin is echoed
  // (a wildcard is refused by browsers for credentialed requests).
  const origin = c.req.header('Origin');
  if (origin) {
    c.header('Access-Control-Allow-Origin', origin);
    c.header('Access-Control-Allow-Credentials', 'true');
    c.header('Vary', 'Origin');
  }
  const declared = c.req.header('Content-Length');
  if (declared !== undefined && Number(declared) > LIMITS.bodyBytes) throw tooLarge();
  // sendBeacon callers cannot always set a content type, so the body is read as text
  // whatever the header says and parsed as JSON.
  const text = declared !== undefined ? await c.req.text() : await readLimited(c.req.raw, LIMITS.bodyBytes);
  if (!text.trim())
    throw new ApiError(400, 'invalid_json', 'Body is empty; send the report as a JSON object');
  const parsed = parseJsonLenient(text);
  if (!parsed.ok) throw new ApiError(400, 'invalid_json', `Body is not valid JSON: ${parsed.reason}`);
  const outcome = normaliseReport(parsed.value, nowIso());
  if (!outcome.ok) throw validationFailed(outcome.errors);
  const { report } = outcome;

  const settings = await deps.projectSettings.get(deps.db, report.projectId);
  if (settings?.ingestKey) {
    const given = c.req.header('X-Log-Center-Key') ?? c.req.query('key');
    if (!safeEqual(given, settings.ingestKey)) {
      throw new ApiError(401, 'invalid_ingest_key', 'This project requires a valid X-Log-Center-Key');
    }
  }
  report.alert = hasAlertTarget(deps.config, settings?.alertSettings);
  const perMinute = settings?.rateLimitPerMinute ?? deps.config.RATE_LIMIT_PER_MINUTE;
  const allowed = deps.rateLimiter.take(report.projectId, perMinute);
  if (!allowed.ok) {
    throw new ApiError(
      429,
      'rate_limited',
      `Project ${report.projectId} is over its rate of ${perMinute} reports per minute`,
      {},
      { 'Retry-After': String(allowed.retryAfterSeconds) },
    );
  }
  const result = await deps.sink.submit(report, text.length);
  // The alert row was stored with the report; it is sent after the answer, so a slow or
  // dead receiver never holds up (or fails) a report.
  if (result.outcome !== 'dedup') deps.alertsQueued();
  return c.json(ingestAnswer(result), 200);
});

const ReportBody = z
  .object({
    project_id: z.string().openapi({ example: 'rtc_backend' }),
    environment: z.string().openapi({ example: 'production' }),
    level: z.string().openapi({ example: 'ERROR' }),
    source: z.enum(['runtime', 'cicd', 'deployment']).optional(),
    timestamp: z.string().optional(),
    version: z.string().optional(),
    commit_hash: z.string().optional(),
    repo_url: z.string().optional(),
    error: z.object({
      type: z.string().openapi({ example: 'ValueError' }),
      message: z.string(),
      file_path: z.string().nullable().optional(),
      line_number: z.number().int().nullable().optional(),
      stack_trace: z.union([z.array(z.string()), z.string()]).optional(),
    }),
    context: z.record(z.string(), z.unknown()).optional(),
    fingerprint: z.array(z.string()).optional(),
  })
  .openapi('Report');

reportRoutes.openAPIRegistry.registerPath({
  method: 'post',
  path: REPORT_PATH,
  tags: ['Ingestion'],
  summary: 'Report an error (open; JSON also accepted as text/plain or without a content type)',
  request: { body: { content: { 'application/json': { schema: ReportBody } }, required: true } },
  responses: {
    200: json(
      z.object({ message: z.string(), id: z.number().int(), status: z.string().optional() }),
      '"Log reported", "Log deduplicated" (with the current status) or "Regression detected, reopened"',
    ),
    400: errorResponse('Body is not JSON (invalid_json)'),
    401: errorResponse('The project requires an ingest key'),
    413: errorResponse('Body over 256 KiB (payload_too_large)'),
    422: errorResponse('Schema violation (validation_failed), one entry per field'),
    429: errorResponse('Over the project rate (rate_limited) or ingestion queue full; see Retry-After'),
  },
});
