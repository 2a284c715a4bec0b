import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { discardBody, readingBody, readLimited } from '../../lib/body';
import { AppError, validationFailed } from '../../lib/errors';
import { nowIso } from '../../lib/time';
import { reportPreflight } from '../../middleware/cors';
import { ingestAnswer } from '../../services/ingest';
import { ingestReport } from '../../services/ingest-pipeline';
import { parseJsonLenient } from '../../services/json-repair';
import { LIMITS, normaliseReport, RUNTIME_RULE, reportSchema } from '../../services/report';
import { type ContentEncoding, decodeBody, parseContentEncoding } from '../../services/sentry/decode';
import { errorResponse, json } from '../schemas';

export const REPORT_PATH = '/api/v1/logs/report';

export const reportRoutes = new OpenAPIHono<AppEnv>();
reportRoutes.on('OPTIONS', REPORT_PATH, reportPreflight);

const tooLarge = (what = 'Body') =>
  new AppError('payload_too_large', `${what} exceeds ${LIMITS.bodyBytes} bytes (256 KiB)`);

/**
 * How much of a refused body, beyond the 256 KiB limit, is read and dropped before the answer:
 * a client still writing when the server answers and closes gets a connection reset, not the
 * 413. A longer body is answered unread and may then see the reset.
 */
const DRAIN_BYTES = 1024 * 1024;

/** Drops what is left of a body the request is refused for, then throws the refusal. */
async function refuse(c: Context<AppEnv>, error: AppError, left: number): Promise<never> {
  if (left <= LIMITS.bodyBytes + DRAIN_BYTES) await discardBody(c.req.raw.body, left);
  throw error;
}

/**
 * The body as text: at most 256 KiB as received and, once its Content-Encoding is undone, as
 * decoded. A client that goes away mid-upload is not a server fault: logged at info, answered
 * 400 (which nobody reads).
 */
async function readReport(c: Context<AppEnv>, encodings: readonly ContentEncoding[]): Promise<string> {
  const declared = c.req.header('Content-Length');
  if (declared !== undefined && Number(declared) > LIMITS.bodyBytes) {
    return refuse(c, tooLarge(), Number(declared));
  }
  const where = { request_id: c.get('requestId'), path: c.req.path };
  // From the raw request, not `c.req.text()`: Hono keeps what that reads for the life of the
  // request, and a report waits in the write queue holding only its normalised form.
  if (declared !== undefined && encodings.length === 0) return readingBody(() => c.req.raw.text(), where);
  let raw = await readingBody(
    async () =>
      declared !== undefined
        ? new Uint8Array(await c.req.raw.arrayBuffer())
        : readLimited(c.req.raw.body, LIMITS.bodyBytes, tooLarge, DRAIN_BYTES),
    where,
  );
  if (encodings.length) {
    try {
      raw = await decodeBody(raw, encodings, LIMITS.bodyBytes);
    } catch (error) {
      if (error instanceof AppError && error.code === 'payload_too_large')
        throw tooLarge('Decompressed body');
      throw error;
    }
  }
  return new TextDecoder().decode(raw);
}

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
  // An encoding that cannot be undone is refused without parsing the body (what was sent is dropped).
  let encodings: ContentEncoding[];
  try {
    encodings = parseContentEncoding(c.req.header('Content-Encoding'));
  } catch (error) {
    return refuse(
      c,
      error as AppError,
      Number(c.req.header('Content-Length') ?? LIMITS.bodyBytes + DRAIN_BYTES),
    );
  }
  const declared = Number(c.req.header('Content-Length') ?? Number.POSITIVE_INFINITY);
  const report =
    deps.bigBodies && declared > BIG_BODY_BYTES
      ? await deps.bigBodies(() => parseReport(c, encodings))
      : await parseReport(c, encodings);
  const result = await ingestReport(deps, report, {
    key: c.req.header('X-Log-Center-Key') ?? c.req.query('key'),
    keyHint: 'X-Log-Center-Key',
  });
  return c.json(ingestAnswer(result), 200);
});

/** Bodies past this size (or of unknown size) go through `deps.bigBodies` where there is one. */
const BIG_BODY_BYTES = 64 * 1024;

/**
 * The body as a normalised report. Its text and parsed form live only in here: while the
 * report waits for its batch, the request holds the report alone.
 */
async function parseReport(c: Context<AppEnv>, encodings: readonly ContentEncoding[]) {
  // sendBeacon callers cannot always set a content type, so the body is read as text
  // whatever the header says and parsed as JSON.
  const text = await readReport(c, encodings);
  if (!text.trim()) throw new AppError('invalid_json', 'Body is empty; send the report as a JSON object');
  const parsed = parseJsonLenient(text);
  if (!parsed.ok) throw new AppError('invalid_json', `Body is not valid JSON: ${parsed.reason}`);
  const outcome = normaliseReport(parsed.value, nowIso());
  if (!outcome.ok) throw validationFailed(outcome.errors);
  return outcome.report;
}

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
    400: errorResponse(
      'Body is not JSON (invalid_json) or not the stream its Content-Encoding names (invalid_encoding)',
    ),
    401: errorResponse('The project requires an ingest key'),
    413: errorResponse('Body over 256 KiB, as sent or decompressed (payload_too_large)'),
    415: errorResponse('Content-Encoding other than gzip, deflate or br (unsupported_encoding)'),
    422: errorResponse('Schema violation (validation_failed), one entry per field'),
    429: errorResponse('Over the project rate (rate_limited) or ingestion queue full; see Retry-After'),
  },
});
