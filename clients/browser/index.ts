/**
 * Log Center browser reporter: reports uncaught errors and unhandled promise rejections
 * to `POST /api/v1/logs/report`. No dependencies; safe to call before the DOM is ready.
 *
 *   import { init } from './log-center';
 *   init({ url: 'https://logs.example.com', projectId: 'rtc_web', environment: 'production' });
 *
 * Reporting must never become a second failure on the page, so nothing here throws.
 */

export interface BrowserReporterOptions {
  /** Log Center base URL, e.g. `https://logs.example.com`. */
  url: string;
  projectId: string;
  environment: string;
  /** Your app's version; stored as the report's `version`. */
  release?: string;
  commitHash?: string;
  /** Ingest key, for projects that set one (sent as `?key=`: beacons cannot carry headers). */
  ingestKey?: string;
  /** Extra context merged into every report, e.g. the signed-in user id. */
  context?: () => Record<string, unknown>;
  /** An identical error (type, message, file, line) within this window is sent once. Default 5000 ms. */
  dedupeMs?: number;
}

export interface StackFrame {
  function: string | null;
  file: string;
  line: number;
  column: number;
}

export interface BrowserReporter {
  captureException(error: unknown, context?: Record<string, unknown>): void;
  /** Removes the global handlers. */
  close(): void;
}

const MAX_STACK_LINES = 50;
const MAX_MESSAGE_CHARS = 8000;
// sendBeacon and keepalive fetch both refuse bodies over 64 KiB.
const MAX_BODY_BYTES = 60_000;

// Chrome, Edge, Node: "    at fn (https://host/app.js:12:34)" or "    at https://host/app.js:12:34"
const CHROME_FRAME = /^\s*at (?:(.+?) \()?(?:async )?(.+?):(\d+):(\d+)\)?\s*$/;
// Firefox, Safari: "fn@https://host/app.js:12:34" or "@https://host/app.js:12:34"
const FIREFOX_FRAME = /^\s*(.*?)@(.+?):(\d+):(\d+)\s*$/;

/** Parses a Chrome or Firefox/Safari `error.stack` into frames, innermost first. */
export function parseStack(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of stack.split('\n')) {
    const match = CHROME_FRAME.exec(line) ?? FIREFOX_FRAME.exec(line);
    if (!match) continue;
    const [, fn, file, lineNo, column] = match;
    // Frames inside eval or native code point at no file anyone can open.
    if (!file || file.includes('<anonymous>') || / > (eval|Function)/.test(file)) continue;
    frames.push({ function: fn || null, file, line: Number(lineNo), column: Number(column) });
  }
  return frames;
}

/**
 * The file as Log Center should group it: the path alone for the page's own scripts, so
 * the same bug on staging and production hosts, or behind a cache-busting query, stays one.
 */
export function displayPath(file: string, pageOrigin: string | undefined): string {
  try {
    const url = new URL(file);
    // Bundler and extension schemes (webpack-internal:, blob:) have no origin to compare.
    if (url.origin === 'null') return file;
    if (url.origin === pageOrigin) return url.pathname;
    return `${url.origin}${url.pathname}`;
  } catch {
    return file;
  }
}

interface Described {
  type: string;
  message: string;
  stack: string[];
  frame: { file: string; line: number } | null;
}

function describeError(error: unknown, pageOrigin: string | undefined): Described {
  if (error instanceof Error || (error !== null && typeof error === 'object' && 'message' in error)) {
    const err = error as Error;
    const stack = typeof err.stack === 'string' ? err.stack : '';
    const top = parseStack(stack)[0];
    const type = typeof err.name === 'string' && err.name ? err.name : 'Error';
    const message = String(err.message);
    const lines = stack.split('\n').filter((line) => line.trim() !== '');
    // Chrome's stack starts with "Type: message"; Firefox's and Safari's hold only frames.
    if (!lines[0] || CHROME_FRAME.test(lines[0]) || FIREFOX_FRAME.test(lines[0])) {
      lines.unshift(message ? `${type}: ${message}` : type);
    }
    return {
      type,
      message,
      stack: lines,
      frame: top ? { file: displayPath(top.file, pageOrigin), line: top.line } : null,
    };
  }
  const message = typeof error === 'string' ? error : safeJson(error);
  return { type: 'Error', message, stack: [message], frame: null };
}

const utf8Length = (text: string) => new TextEncoder().encode(text).length;

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function send(endpoint: string, body: string): void {
  const beacon = typeof navigator !== 'undefined' ? navigator.sendBeacon?.bind(navigator) : undefined;
  // text/plain keeps the request "simple": no CORS preflight that could be lost while the
  // page unloads. Log Center parses the body as JSON whatever the content type.
  if (beacon?.(endpoint, new Blob([body], { type: 'text/plain;charset=UTF-8' }))) return;
  if (typeof fetch !== 'function') return;
  fetch(endpoint, {
    method: 'POST',
    body,
    keepalive: true,
    mode: 'cors',
    credentials: 'omit',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
  }).catch(() => {});
}

let current: BrowserReporter | null = null;

/** Installs the global handlers. Calling it again replaces the previous reporter. */
export function init(options: BrowserReporterOptions): BrowserReporter {
  current?.close();
  const noop: BrowserReporter = { captureException() {}, close() {} };
  if (typeof window === 'undefined') return noop;

  const endpoint =
    `${options.url.replace(/\/+$/, '')}/api/v1/logs/report` +
    (options.ingestKey ? `?key=${encodeURIComponent(options.ingestKey)}` : '');
  const dedupeMs = options.dedupeMs ?? 5000;
  const recent = new Map<string, number>();

  function report(
    error: unknown,
    mechanism: string,
    extra: Record<string, unknown>,
    fallback?: Described['frame'],
  ) {
    try {
      const origin = window.location?.origin;
      const described = describeError(error, origin);
      const frame = described.frame ?? fallback ?? { file: window.location?.pathname ?? 'unknown', line: 0 };

      const key = `${described.type}|${described.message}|${frame.file}|${frame.line}`;
      const now = Date.now();
      for (const [seen, at] of recent) if (now - at >= dedupeMs) recent.delete(seen);
      if (recent.has(key)) return;
      recent.set(key, now);

      let userContext: Record<string, unknown> = {};
      try {
        userContext = options.context?.() ?? {};
      } catch {}
      const context: Record<string, unknown> = {
        url: window.location?.href,
        user_agent: typeof navigator !== 'undefined' ? navigator.userAgent : undefined,
        mechanism,
        ...userContext,
        ...extra,
      };
      const payload = {
        project_id: options.projectId,
        environment: options.environment,
        level: 'ERROR',
        source: 'runtime',
        timestamp: new Date(now).toISOString(),
        version: options.release,
        commit_hash: options.commitHash,
        error: {
          type: described.type,
          message: described.message.slice(0, MAX_MESSAGE_CHARS),
          file_path: frame.file,
          line_number: frame.line,
          stack_trace: described.stack.slice(0, MAX_STACK_LINES).map((line) => line.slice(0, 1000)),
        },
        context,
      };
      // Better a report without its context than no report at all.
      const withoutContext = (reason: string) => {
        payload.context = { url: context.url, mechanism, context_dropped: reason };
        return JSON.stringify(payload);
      };
      let body: string;
      try {
        body = JSON.stringify(payload);
      } catch {
        body = withoutContext('not serialisable');
      }
      if (utf8Length(body) > MAX_BODY_BYTES) {
        payload.error.message = payload.error.message.slice(0, 2000);
        payload.error.stack_trace = payload.error.stack_trace.slice(0, 10);
        body = withoutContext('too large to send');
      }
      send(endpoint, body);
    } catch {
      // A reporter that throws from inside an error handler would hide the original error.
    }
  }

  const onError = (event: ErrorEvent) => {
    // A script from another origin served without CORS headers reports only "Script
    // error." with no file or line: nothing anyone could act on.
    if (!event.error && !event.lineno && /^Script error\.?$/.test(event.message)) return;
    const fallback = event.filename
      ? { file: displayPath(event.filename, window.location?.origin), line: event.lineno }
      : null;
    report(event.error ?? event.message, 'onerror', {}, fallback);
  };
  const onRejection = (event: PromiseRejectionEvent) => {
    report(event.reason, 'unhandledrejection', {});
  };
  // Listeners rather than assigning window.onerror, so an app's own onerror stays in place
  // and cannot silently replace this one.
  window.addEventListener('error', onError);
  window.addEventListener('unhandledrejection', onRejection);

  const reporter: BrowserReporter = {
    captureException(error, context = {}) {
      report(error, 'manual', context);
    },
    close() {
      window.removeEventListener('error', onError);
      window.removeEventListener('unhandledrejection', onRejection);
      if (current === reporter) current = null;
    },
  };
  current = reporter;
  return reporter;
}

/** Reports a caught error through the reporter set up by `init`; does nothing before it. */
export function captureException(error: unknown, context?: Record<string, unknown>): void {
  current?.captureException(error, context);
}
