/**
 * Log Center Node reporter: `captureException(err, context)` for caught errors, and
 * process-level handlers for the ones nobody caught. Uses the global `fetch` (Node 18+).
 *
 *   import { init, captureException } from './log-center';
 *   init({ url: process.env.LOG_CENTER_URL!, projectId: 'rtc_api', environment: 'production' });
 *
 * A report gives up after 3 s and never throws or rejects: an outage of Log Center must
 * not become an outage of the service reporting to it.
 */
import { hostname } from 'node:os';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NodeReporterOptions {
  /** Log Center base URL, e.g. `https://logs.example.com`. */
  url: string;
  projectId: string;
  environment: string;
  /** Your service's version; stored as the report's `version`. */
  release?: string;
  commitHash?: string;
  /** Ingest key, for projects that set one (`X-Log-Center-Key`). */
  ingestKey?: string;
  /** Extra context merged into every report. */
  context?: () => Record<string, unknown>;
  /** Default 3000 ms. */
  timeoutMs?: number;
  /**
   * Install `uncaughtException` and `unhandledRejection` handlers (default true). After
   * reporting they exit with status 1, as Node would have, unless the application has
   * handlers of its own.
   */
  handleProcessErrors?: boolean;
  /** File paths in reports are made relative to this folder (default `process.cwd()`). */
  root?: string;
}

export interface ReportAnswer {
  message: string;
  id: number;
  status?: string;
}

export interface NodeReporter {
  /** Resolves with Log Center's answer, or `undefined` when the report could not be delivered. */
  captureException(error: unknown, context?: Record<string, unknown>): Promise<ReportAnswer | undefined>;
  /** Removes the process handlers. */
  close(): void;
}

export interface StackFrame {
  function: string | null;
  file: string;
  line: number;
  column: number;
}

const MAX_STACK_LINES = 100;
const MAX_MESSAGE_CHARS = 8000;

// V8: "    at fn (/srv/app/src/users.js:12:34)", "    at file:///srv/app/main.mjs:3:9"
const V8_FRAME = /^\s*at (?:(.+?) \()?(?:async )?(.+?):(\d+):(\d+)\)?\s*$/;

/** Parses a V8 `error.stack` into frames, innermost first. */
export function parseStack(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of stack.split('\n')) {
    const match = V8_FRAME.exec(line);
    if (!match) continue;
    const [, fn, file, lineNo, column] = match;
    if (!file || file.includes('<anonymous>')) continue;
    frames.push({ function: fn || null, file, line: Number(lineNo), column: Number(column) });
  }
  return frames;
}

const isInternal = (file: string) => file.startsWith('node:') || file.startsWith('internal/');
const isDependency = (file: string) =>
  file.includes(`${sep}node_modules${sep}`) || file.includes('/node_modules/');

/**
 * The frame worth fixing: the innermost one in the application's own code, not in Node
 * internals or a dependency it merely passed through.
 */
export function culpritFrame(frames: StackFrame[]): StackFrame | undefined {
  return (
    frames.find((frame) => !isInternal(frame.file) && !isDependency(frame.file)) ??
    frames.find((frame) => !isInternal(frame.file)) ??
    frames[0]
  );
}

/** Repository-relative when the file is under `root`, so the repair agent can open it. */
export function displayPath(file: string, root: string): string {
  let path = file;
  if (path.startsWith('file://')) {
    try {
      path = fileURLToPath(path);
    } catch {
      return file;
    }
  }
  if (!path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(path)) return path;
  const inside = relative(root, path);
  return inside && !inside.startsWith('..') ? inside.split(sep).join('/') : path;
}

function stackLines(error: Error, type: string): string[] {
  const lines = (typeof error.stack === 'string' ? error.stack : `${type}: ${error.message}`).split('\n');
  let cause: unknown = error.cause;
  // Causes are part of the story (a wrapped driver error); a cycle must not loop forever.
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    lines.push(`Caused by: ${cause.stack ?? `${cause.name}: ${cause.message}`}`);
    cause = cause.cause;
  }
  return lines.flatMap((line) => line.split('\n')).slice(0, MAX_STACK_LINES);
}

function safeString(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

let current: NodeReporter | null = null;

/** Configures the reporter and, by default, the process handlers. Calling it again replaces it. */
export function init(options: NodeReporterOptions): NodeReporter {
  current?.close();
  const endpoint = `${options.url.replace(/\/+$/, '')}/api/v1/logs/report`;
  const timeoutMs = options.timeoutMs ?? 3000;
  const root = options.root ?? process.cwd();

  async function captureException(
    error: unknown,
    context: Record<string, unknown> = {},
  ): Promise<ReportAnswer | undefined> {
    try {
      const isError = error instanceof Error;
      const type = isError && error.name ? error.name : 'Error';
      const message = isError ? error.message : safeString(error);
      const frame = isError ? culpritFrame(parseStack(error.stack ?? '')) : undefined;
      let userContext: Record<string, unknown> = {};
      try {
        userContext = options.context?.() ?? {};
      } catch {}

      const payload = {
        project_id: options.projectId,
        environment: options.environment,
        level: 'ERROR',
        source: 'runtime',
        timestamp: new Date().toISOString(),
        version: options.release,
        commit_hash: options.commitHash,
        error: {
          type,
          message: message.slice(0, MAX_MESSAGE_CHARS),
          // Same fallback as the Python reporter when there is no frame to point at.
          file_path: frame ? displayPath(frame.file, root) : 'unknown',
          line_number: frame ? frame.line : 0,
          stack_trace: isError ? stackLines(error, type) : [message],
        },
        context: {
          hostname: hostname(),
          pid: process.pid,
          node: process.version,
          ...userContext,
          ...context,
        },
      };
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (options.ingestKey) headers['X-Log-Center-Key'] = options.ingestKey;
      let body: string;
      try {
        body = JSON.stringify(payload);
      } catch {
        // Better a report without its context than no report at all.
        body = JSON.stringify({ ...payload, context: { context_dropped: 'not serialisable' } });
      }
      const response = await fetch(endpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const answer = (await response.json()) as ReportAnswer;
      return response.ok ? answer : undefined;
    } catch {
      return undefined;
    }
  }

  const onUncaught = (error: Error) => void crashAfterReport('uncaughtException', error);
  const onRejection = (reason: unknown) => void crashAfterReport('unhandledRejection', reason);

  async function crashAfterReport(event: 'uncaughtException' | 'unhandledRejection', error: unknown) {
    await captureException(error, { mechanism: event });
    // Another handler means the application decided what happens next; otherwise do what
    // Node does without handlers: print the error and exit with status 1.
    if (process.listenerCount(event) > 1) return;
    console.error(error);
    process.exit(1);
  }

  if (options.handleProcessErrors ?? true) {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onRejection);
  }

  const reporter: NodeReporter = {
    captureException,
    close() {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onRejection);
      if (current === reporter) current = null;
    },
  };
  current = reporter;
  return reporter;
}

/** Reports through the reporter set up by `init`; resolves `undefined` before it. */
export function captureException(
  error: unknown,
  context?: Record<string, unknown>,
): Promise<ReportAnswer | undefined> {
  return current ? current.captureException(error, context) : Promise.resolve(undefined);
}
