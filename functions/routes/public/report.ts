import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { readLimited } from '../../lib/body';
import { AppError, validationFailed } from '../../lib/errors';
import { nowIso } from '../../lib/time';
import { reportPreflight } from '../../middleware/cors';
import { ingestAnswer } from '../../services/ingest';
import { ingestReport } from '../../services/ingest-pipeline';
import { parseJsonLenient } from '../../services/json-repair';
import { LIMITS, normaliseReport, RUNTIME_RULE, reportSchema } from '../../services/report';
import { errorResponse, json } from '../schemas';

export const REPORT_PATH = '/api/v1/logs/report';

export const reportRoutes = new OpenAPIHono<AppEnv>();
reportRoutes.on('OPTIONS', REPORT_PATH, reportPreflight);

const tooLarge = () => new AppError('payload_too_large', `Body exceeds ${LIMITS.bodyBytes} bytes (256 KiB)`);

/**
 * The hot path is a plain handler, no middleware: wrapping the body stream (body-limit)
 * or rewriting the response headers afterwards (cors) each cost several times the
 * handler's own work under load. Preflight is answered by `reportPreflight` (middleware/cors.ts).
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
  const text =
    declared !== undefined
      ? await c.req.text()
      : new TextDecoder().decode(await readLimited(c.req.raw.body, LIMITS.bodyBytes, tooLarge));
  if (!text.trim()) throw new AppError('invalid_json', 'Body is empty; send the report as a JSON object');
  const parsed = parseJsonLenient(text);
  if (!parsed.ok) throw new AppError('invalid_json', `Body is not valid JSON: ${parsed.reason}`);
  const outcome = normaliseReport(parsed.value, nowIso());
  if (!outcome.ok) throw validationFailed(outcome.errors);
  const { report } = outcome;
  const result = await ingestReport(deps, report, {
    key: c.req.header('X-Log-Center-Key') ?? c.req.query('key'),
    keyHint: 'X-Log-Center-Key',
    bytes: text.length,
  });
  return c.json(ingestAnswer(result), 200);
});

reportRoutes.openAPIRegistry.registerPath({
  method: 'post',
  path: REPORT_PATH,
  tags: ['Ingestion'],
  summary: 'Report an error (open; JSON also accepted as text/plain or without a content type)',
  request: {
    body: {
      content: {
        'application/json': { schema: reportSchema.meta({ id: 'Report', allOf: [RUNTIME_RULE] } as never) },
      },
      required: true,
    },
  },
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
