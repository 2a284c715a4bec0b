import { AppError } from '../../lib/errors';
import { type Level, normaliseLevel } from '../../lib/vocabulary';
import { printableReason } from '../json-repair';
import {
  computeFingerprint,
  filterSecrets,
  LIMITS,
  type NormalisedReport,
  normaliseStack,
  storedContext,
  stripAnsi,
  truncateBytes,
} from '../report';

/** The parts of a Sentry event (develop.sentry.dev event-payloads) read here; all optional. */
type Json = Record<string, unknown>;

const utf8 = new TextDecoder();

/** SQLite text ends at NUL on read; the native path stores U+FFFD in its place, so does this. */
const NUL_REPLACEMENT = '\uFFFD';

/**
 * An event item's payload (or a store request's body) as an object. NULs inside strings are
 * replaced while parsing, which reaches every field the report keeps (type, message, file,
 * stack, environment, release) without a pass over each.
 */
export function parseEventJson(bytes: Uint8Array): Json {
  let value: unknown;
  try {
    const source = utf8.decode(bytes);
    // JSON cannot carry a raw NUL inside a string, only the escape: without one, a reviver
    // (which makes parsing several times slower) has nothing to do.
    value = /\\u0000/i.test(source)
      ? JSON.parse(source, (_key, inner) =>
          typeof inner === 'string' && inner.includes('\u0000')
            ? inner.replaceAll('\u0000', NUL_REPLACEMENT)
            : inner,
        )
      : JSON.parse(source);
  } catch (error) {
    throw new AppError('invalid_json', `Event is not JSON: ${printableReason((error as Error).message)}`);
  }
  if (!isObject(value)) throw new AppError('invalid_json', 'Event is not a JSON object');
  return value;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;

const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);

/** A list the protocol allows bare or wrapped as `{values: [...]}` (exception, breadcrumbs, threads). */
const values = (value: unknown): Json[] => objects(isObject(value) ? value.values : value);

/** Sentry event ids are 32 hex digits; SDKs may send a dashed UUID. */
export function normaliseEventId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const id = value.replaceAll('-', '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(id) ? id : null;
}

export const newEventId = () => crypto.randomUUID().replaceAll('-', '');

const LEVELS: Record<string, Level> = {
  fatal: 'CRITICAL',
  error: 'ERROR',
  warning: 'WARNING',
  info: 'INFO',
  log: 'INFO',
  debug: 'DEBUG',
};

export function sentryLevel(value: unknown): Level {
  if (typeof value !== 'string') return 'ERROR';
  return LEVELS[value.trim().toLowerCase()] ?? normaliseLevel(value) ?? 'ERROR';
}

/**
 * A 7–40 digit hex release (or the part after the last `@`, as in `my-app@3f2a9c1`) is a
 * commit. All-decimal strings are left out: a build number or date (`20260501`) is far more
 * likely than a SHA without a single letter.
 */
export function commitFromRelease(release: string | undefined): string | null {
  if (!release) return null;
  const candidate = release.slice(release.lastIndexOf('@') + 1).trim();
  return /^[0-9a-f]{7,40}$/i.test(candidate) && !/^\d+$/.test(candidate) ? candidate.toLowerCase() : null;
}

const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$/;
const HAS_ZONE = /([Zz]|[+-]\d{2}:?\d{2})$/;

/** `timestamp` as RFC 3339 (no offset means UTC, as Sentry reads it) or epoch seconds. */
export function eventTime(value: unknown, fallback: string): string {
  let ms: number | undefined;
  if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
    else if (RFC_3339.test(trimmed)) {
      ms = Date.parse(HAS_ZONE.test(trimmed) ? trimmed : `${trimmed.replace(' ', 'T')}Z`);
    }
  }
  if (ms === undefined || !Number.isFinite(ms)) return fallback;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? fallback : date.toISOString();
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** A frame's file: `filename`, else `abs_path`; a URL (browser, `file://`, `app://`) becomes its path. */
export function frameFile(frame: Json): string | undefined {
  const file = text(frame.filename) ?? text(frame.abs_path);
  if (!file || !URL_LIKE.test(file)) return file;
  try {
    const path = new URL(file).pathname;
    try {
      return decodeURIComponent(path) || file;
    } catch {
      return path || file;
    }
  } catch {
    return file;
  }
}

/** Frames run oldest → newest: the newest one in the app (`in_app` not false), else the newest. */
export function crashFrame(frames: Json[]): Json | undefined {
  // Frames run oldest → newest. An SDK that marks its app's frames (sentry-python, the JS
  // SDKs) is taken at its word: the newest frame marked in_app. sentry-python leaves the
  // standard library unmarked, so "not false" alone would put every json.loads failure in
  // json/decoder.py and group them all as one bug.
  const newest = (keep: (frame: Json) => boolean) => {
    for (let i = frames.length - 1; i >= 0; i--) if (keep(frames[i]!)) return frames[i];
    return undefined;
  };
  return newest((f) => f.in_app === true) ?? newest((f) => f.in_app !== false) ?? frames.at(-1);
}

const framesOf = (holder: Json | undefined): Json[] =>
  holder && isObject(holder.stacktrace) ? objects(holder.stacktrace.frames) : [];

/**
 * The stack to read the crash frame from: the main exception's, else (message events, and
 * SDKs that put the stack on the thread) the crashed, then current, thread's.
 */
function stackFrames(main: Json | undefined, event: Json): Json[] {
  const own = framesOf(main);
  if (own.length) return own;
  const threads = values(event.threads);
  const thread =
    threads.find((t) => t.crashed === true && framesOf(t).length) ??
    threads.find((t) => t.current === true && framesOf(t).length) ??
    threads.find((t) => framesOf(t).length);
  return framesOf(thread);
}

function frameLine(frame: Json): string {
  const file = text(frame.filename) ?? text(frame.abs_path) ?? text(frame.module) ?? '?';
  const line = count(frame.lineno);
  const column = count(frame.colno);
  const location = `${file}${line !== undefined ? `:${line}` : ''}${line !== undefined && column !== undefined ? `:${column}` : ''}`;
  const fn = text(frame.function);
  return fn ? `  at ${fn} (${location})` : `  at ${location}`;
}

const heading = (type: string, value: string) => (value ? `${type}: ${value}` : type);

/**
 * `Type: value` then `  at fn (file:line:col)` per frame, newest first, as a JS stack reads;
 * earlier exceptions of a chain follow as `Caused by:` sections, newest first.
 */
function stackLines(type: string, message: string, frames: Json[], chain: Json[]): string[] {
  const lines = [heading(type, message)];
  for (let i = frames.length - 1; i >= 0; i--) lines.push(frameLine(frames[i]!));
  for (let c = chain.length - 1; c >= 0; c--) {
    const cause = chain[c]!;
    lines.push(`Caused by: ${heading(text(cause.type) ?? 'Error', text(cause.value) ?? '')}`);
    const causeFrames = framesOf(cause);
    for (let i = causeFrames.length - 1; i >= 0; i--) lines.push(frameLine(causeFrames[i]!));
  }
  return lines;
}

/** `logentry.formatted`, else `message` (a string or the old `{formatted, message}`), else `value`. */
function eventMessage(event: Json, main: Json | undefined): string {
  const logentry = isObject(event.logentry) ? event.logentry : undefined;
  const message = event.message;
  return (
    text(logentry?.formatted) ??
    text(message) ??
    (isObject(message) ? (text(message.formatted) ?? text(message.message)) : undefined) ??
    text(logentry?.message) ??
    text(main?.value) ??
    ''
  );
}

/** `logentry.message` when the SDK sent parameters for it: the text before formatting. */
function messageTemplate(event: Json): string | undefined {
  const logentry = isObject(event.logentry) ? event.logentry : undefined;
  const params = logentry?.params;
  const hasParams = Array.isArray(params) ? params.length > 0 : isObject(params);
  return hasParams ? text(logentry?.message) : undefined;
}

const BREADCRUMBS_KEPT = 20;
const DEFAULT_MARKER = /^\{\{\s*default\s*\}\}$/i;

/** `tags` arrive as an object or as `[key, value]` pairs. */
function tagsOf(value: unknown): Json | undefined {
  if (isObject(value)) return value;
  if (!Array.isArray(value)) return undefined;
  const out: Json = {};
  for (const pair of value) {
    // defineProperty, so a `__proto__` tag stays a tag instead of setting the prototype.
    if (Array.isArray(pair) && typeof pair[0] === 'string')
      Object.defineProperty(out, pair[0], {
        value: pair[1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}

function eventContext(event: Json, eventId: string): Json {
  const context: Json = { event_id: eventId };
  const platform = text(event.platform);
  if (platform) context.platform = platform;
  if (isObject(event.sdk)) {
    // Name and version say which SDK; its integration and package lists are bulk.
    context.sdk = { name: event.sdk.name, version: event.sdk.version };
  }
  const serverName = text(event.server_name);
  if (serverName) context.server_name = serverName;
  const tags = tagsOf(event.tags);
  if (tags && Object.keys(tags).length) context.tags = tags;
  if (isObject(event.user)) context.user = event.user;
  if (isObject(event.request)) {
    const { url, method } = event.request;
    if (url !== undefined || method !== undefined) context.request = { url, method };
  }
  if (isObject(event.contexts)) context.contexts = event.contexts;
  if (isObject(event.extra) && Object.keys(event.extra).length) context.extra = event.extra;
  const breadcrumbs = values(event.breadcrumbs);
  if (breadcrumbs.length) context.breadcrumbs = breadcrumbs.slice(-BREADCRUMBS_KEPT);
  return context;
}

export interface SentryEventOptions {
  /** The Log Center project the DSN's number resolved to. */
  projectId: string;
  receivedAt: string;
  /** The envelope header's `event_id`, which wins over the payload's. */
  eventId?: string | null;
}

export interface SentryReport {
  report: NormalisedReport;
  /** The event id answered to the SDK and kept in the context. */
  eventId: string;
}

/**
 * A Sentry event as a Log Center report (docs/sentry.md "Event → bug" and "Grouping"), through the
 * same secret filtering, truncation and normalisation as the report API.
 */
export function normaliseSentryEvent(event: Json, options: SentryEventOptions): SentryReport {
  const eventId = normaliseEventId(options.eventId) ?? normaliseEventId(event.event_id) ?? newEventId();
  const exceptions = values(event.exception);
  const main = exceptions.at(-1);
  const mechanism = main && isObject(main.mechanism) ? main.mechanism : undefined;
  // captureMessage (with attachStacktrace) and captureException of a non-Error send a
  // synthetic exception: the message is the news, its type (if any) is made up.
  const isMessage = !main || mechanism?.synthetic === true;

  const errorType = isMessage ? 'Message' : (text(main.type) ?? 'Error').slice(0, 256);
  const rawMessage = isMessage ? eventMessage(event, main) : (text(main.value) ?? '');
  const message = truncateBytes(stripAnsi(rawMessage), LIMITS.messageBytes);

  const frames = stackFrames(main, event);
  const frame = crashFrame(frames);
  const filePath = frame ? (frameFile(frame)?.slice(0, 2048) ?? null) : null;
  const lineNumber = frame ? (count(frame.lineno) ?? null) : null;
  const stackTrace = normaliseStack(stackLines(errorType, rawMessage, frames, exceptions.slice(0, -1)));

  const release = text(event.release);
  const context = storedContext(filterSecrets(eventContext(event, eventId)) as Json);
  const report: Omit<NormalisedReport, 'fingerprint'> = {
    projectId: options.projectId,
    environment: (text(event.environment) ?? 'production').slice(0, 64),
    level: sentryLevel(event.level),
    source: 'runtime',
    occurredAt: eventTime(event.timestamp, options.receivedAt),
    receivedAt: options.receivedAt,
    version: release ? release.slice(0, 128) : null,
    commitHash: commitFromRelease(release),
    repoUrl: null,
    errorType,
    message,
    filePath,
    lineNumber,
    stackJson: JSON.stringify(stackTrace),
    contextJson: context.json,
    initialStatus: 'NEW',
    alert: true,
  };

  // Default grouping leaves the line number out, so a deploy that shifts lines keeps the bug.
  let defaults: string[];
  // A logged message groups by its template (`Invoice %s failed`), not by each formatting of it.
  if (isMessage) defaults = ['Message', messageTemplate(event) ?? message];
  else if (frame) {
    const fn = text(frame.function) ?? (lineNumber !== null ? String(lineNumber) : '');
    defaults = [errorType, filePath ?? '', fn];
  } else defaults = [errorType, message.split('\n', 1)[0] ?? ''];

  const sdkParts = Array.isArray(event.fingerprint)
    ? event.fingerprint.filter((p) => p !== null && p !== undefined).map(String)
    : [];
  const parts = sdkParts.length
    ? sdkParts.flatMap((p) => (DEFAULT_MARKER.test(p.trim()) ? defaults : [p]))
    : defaults;
  const fingerprint = computeFingerprint({ ...report, context: context.value }, parts);
  return { report: { ...report, fingerprint }, eventId };
}
