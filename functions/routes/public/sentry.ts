import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { readingBody } from '../../lib/body';
import { AppError } from '../../lib/errors';
import { nowIso } from '../../lib/time';
import { errorAnswer } from '../../middleware/errors';
import { ingestReport } from '../../services/ingest-pipeline';
import type { NormalisedReport } from '../../services/report';
import { checkSentryKey, keyFromDsn, requestKey } from '../../services/sentry/auth';
import { decodeBody, parseContentEncoding, readRawBody } from '../../services/sentry/decode';
import { parseEnvelope } from '../../services/sentry/envelope';
import { normaliseSentryEvent, parseEventJson } from '../../services/sentry/event';
import { SENTRY_LIMITS } from '../../services/sentry/limits';
import { sentryProjectsFor } from '../../services/sentry/projects';
import { errorResponse, json } from '../schemas';

/** `/api/{N}/envelope/` as SDKs build it from a DSN; N is digits, so other /api paths fall through. */
export const SENTRY_ENVELOPE_PATHS = ['/api/:sentryId{[0-9]+}/envelope/', '/api/:sentryId{[0-9]+}/envelope'];
/** The legacy endpoint: one plain JSON event per request. */
export const SENTRY_STORE_PATHS = ['/api/:sentryId{[0-9]+}/store/', '/api/:sentryId{[0-9]+}/store'];

/**
 * Relay's CORS (relay-server/src/middlewares/cors.rs), on every answer including errors and
 * the preflight: SDKs send no credentials, so any origin is allowed with a wildcard.
 */
const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST',
  'Access-Control-Allow-Headers':
    'x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, ' +
    'authentication, authorization, content-encoding, transfer-encoding',
  'Access-Control-Expose-Headers': 'x-sentry-error, x-sentry-rate-limits, retry-after',
  'Access-Control-Max-Age': '3600',
};

const KEY_HINT = 'sentry_key (the public key of the project DSN)';

function assertKey(given: string | undefined, ingestKey: string | null | undefined): asserts given is string {
  const check = checkSentryKey(given, ingestKey);
  if (check === 'missing') {
    throw new AppError(
      'unauthorized',
      'No Sentry key: send the DSN public key as sentry_key (query or X-Sentry-Auth)',
    );
  }
  if (check === 'invalid') {
    throw new AppError('invalid_ingest_key', `This project requires a valid ${KEY_HINT}`);
  }
}

interface PendingEvent {
  report: NormalisedReport;
  eventId: string;
}

function toEvent(payload: Uint8Array, projectId: string, eventId?: unknown): PendingEvent {
  if (payload.byteLength > SENTRY_LIMITS.eventBytes) {
    throw new AppError(
      'payload_too_large',
      `Event exceeds ${SENTRY_LIMITS.eventBytes} bytes (1 MiB); it was dropped`,
    );
  }
  const { report, eventId: id } = normaliseSentryEvent(parseEventJson(payload), {
    projectId,
    receivedAt: nowIso(),
    eventId: typeof eventId === 'string' ? eventId : null,
  });
  return { report, eventId: id };
}

async function ingest(c: Context<AppEnv>, kind: 'envelope' | 'store'): Promise<Response> {
  const { deps } = c.var;
  const raw = c.req.param('sentryId') ?? '';
  const sentryId = Number(raw);
  const projectId =
    Number.isSafeInteger(sentryId) && sentryId > 0
      ? await sentryProjectsFor(deps.db).projectId(deps.db, sentryId)
      : undefined;
  if (!projectId) {
    throw new AppError('unauthorized', `No project has Sentry id ${raw}; copy the DSN from its settings`);
  }
  const settings = await deps.projectSettings.get(deps.db, projectId);
  // A key sent with the request is checked before the body is read; an envelope's `dsn`
  // header, the last resort (a store request has none), only once it is parsed.
  const key = requestKey(c.req.url, c.req.raw.headers);
  if (key || kind === 'store') assertKey(key, settings?.ingestKey);

  const read = await readEvents(c, kind, projectId, key, settings?.ingestKey);
  // Every event is parsed before any is stored, so a bad one leaves none half-written.
  for (const event of read.events) {
    await ingestReport(deps, event.report, { key: read.key, keyHint: KEY_HINT });
  }
  return c.json(read.events.length ? { id: read.events[0]!.eventId } : {}, 200);
}

/**
 * The body's events as reports. The body (up to 1 MiB, 4 MiB decompressed) and the parsed
 * events live only in here: while the reports wait for their batch, the request holds them alone.
 */
async function readEvents(
  c: Context<AppEnv>,
  kind: 'envelope' | 'store',
  projectId: string,
  requestKeyGiven: string | undefined,
  ingestKey: string | null | undefined,
): Promise<{ events: PendingEvent[]; key: string }> {
  let key = requestKeyGiven;
  const encodings = parseContentEncoding(c.req.header('Content-Encoding'));
  const declared = Number(c.req.header('Content-Length') ?? -1);
  if (declared > SENTRY_LIMITS.bodyBytes) {
    throw new AppError('payload_too_large', `Body exceeds ${SENTRY_LIMITS.bodyBytes} bytes (1 MiB)`);
  }
  // A declared length within the limit is read in one go (as the report API does); a chunked
  // body (@sentry/node sends one) is read through a counter that stops at the limit.
  const received = await readingBody(
    async () =>
      declared >= 0
        ? new Uint8Array(await c.req.raw.arrayBuffer())
        : readRawBody(c.req.raw.body, SENTRY_LIMITS.bodyBytes),
    { request_id: c.get('requestId'), path: c.req.path },
  );
  const body = await decodeBody(received, encodings);

  const events: PendingEvent[] = [];
  if (kind === 'store') {
    events.push(toEvent(body, projectId));
  } else {
    const envelope = parseEnvelope(body);
    if (!key) {
      key = keyFromDsn(envelope.header.dsn);
      assertKey(key, ingestKey);
    }
    for (const item of envelope.items) {
      if (item.type !== 'event') continue; // transactions, sessions, attachments, ...: accepted, dropped
      // The envelope header's event_id names its (one) event.
      events.push(
        toEvent(item.payload, projectId, events.length === 0 ? envelope.header.event_id : undefined),
      );
    }
  }
  return { events, key: key! };
}

/** Header values are ISO-8859-1 without line breaks; a message may quote the body. */
const headerSafe = (text: string) => text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);

/** The shared error answer, plus what SDKs read: the reason and, when limited, for how long. */
function sentryErrorAnswer(c: Context<AppEnv>, error: unknown): Response {
  const request_id = c.get('requestId') ?? crypto.randomUUID();
  const answer = errorAnswer(error, { request_id, path: c.req.path });
  const headers: Record<string, string> = {
    ...answer.headers,
    'X-Request-Id': request_id,
    'X-Sentry-Error': headerSafe(answer.message),
  };
  // Sentry SDKs stop sending for this long; only events count, everything else is dropped anyway.
  if (error instanceof AppError && error.code === 'rate_limited' && answer.headers['Retry-After']) {
    headers['X-Sentry-Rate-Limits'] = `${answer.headers['Retry-After']}::project`;
  }
  return c.json(answer.body, answer.status, headers);
}

function withCors(c: Context<AppEnv>) {
  for (const [name, value] of Object.entries(CORS_HEADERS)) c.header(name, value);
}

const handler = (kind: 'envelope' | 'store') => async (c: Context<AppEnv>) => {
  withCors(c);
  try {
    return await ingest(c, kind);
  } catch (error) {
    return sentryErrorAnswer(c, error);
  }
};

/**
 * Sentry SDK ingestion (docs/sentry.md). Not behind the API token: the DSN key is the credential.
 * Every answer, errors included, is built here so it carries Relay's CORS headers.
 */
export const sentryRoutes = new OpenAPIHono<AppEnv>();
sentryRoutes.on('OPTIONS', [...SENTRY_ENVELOPE_PATHS, ...SENTRY_STORE_PATHS], (c) => {
  withCors(c);
  return c.body(null, 200);
});
sentryRoutes.on('POST', SENTRY_ENVELOPE_PATHS, handler('envelope'));
sentryRoutes.on('POST', SENTRY_STORE_PATHS, handler('store'));

const SentryId = z.object({
  sentryId: z
    .string()
    .regex(/^[0-9]+$/)
    .openapi({
      param: { name: 'sentryId', in: 'path' },
      example: '3',
      description: 'The number ending the DSN',
    }),
});
const SentryAnswer = z.object({ id: z.string().optional() }).openapi('SentryAnswer');
const sentryErrors = {
  400: errorResponse(
    'Malformed envelope (invalid_envelope), corrupt compression (invalid_encoding), event not JSON',
  ),
  401: errorResponse('Unknown project number or no key (unauthorized), wrong key (invalid_ingest_key)'),
  413: errorResponse('Body over 1 MiB, decompressed over 4 MiB or an event over 1 MiB (payload_too_large)'),
  415: errorResponse('Content-Encoding other than gzip, deflate, br (unsupported_encoding)'),
  429: errorResponse('Over the project rate (rate_limited); see Retry-After and X-Sentry-Rate-Limits'),
};

sentryRoutes.openAPIRegistry.registerPath({
  method: 'post',
  path: '/api/{sentryId}/envelope/',
  tags: ['Ingestion'],
  summary: 'Sentry SDK envelope (key as ?sentry_key=, X-Sentry-Auth or the envelope dsn)',
  request: {
    params: SentryId,
    body: { content: { 'application/x-sentry-envelope': { schema: z.string() } }, required: true },
  },
  responses: {
    200: json(SentryAnswer, 'Stored: the event id, or {} when the envelope held no event'),
    ...sentryErrors,
  },
});

sentryRoutes.openAPIRegistry.registerPath({
  method: 'post',
  path: '/api/{sentryId}/store/',
  tags: ['Ingestion'],
  summary: 'Legacy Sentry store endpoint: one JSON event',
  request: {
    params: SentryId,
    body: { content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } }, required: true },
  },
  responses: { 200: json(SentryAnswer, 'Stored: the event id'), ...sentryErrors },
});
