import { createHash, hash } from 'node:crypto';
import { z } from 'zod';
import { type FieldError, issuesToFieldErrors } from '../lib/errors';
import {
  LEVEL_PATTERN,
  LEVELS,
  type Level,
  normaliseLevel,
  PROJECT_ID_PATTERN,
  SOURCES,
  type Source,
} from '../lib/vocabulary';

export const LIMITS = {
  bodyBytes: 256 * 1024,
  messageBytes: 8 * 1024,
  stackLines: 200,
  stackLineBytes: 4 * 1024,
  contextBytes: 32 * 1024,
} as const;

/**
 * ISO 8601 date or date-time, as a pattern the OpenAPI document can carry too (no flags, so
 * both cases of T and Z are spelled out; blanks around it are allowed, as the value is trimmed).
 */
const ISO_8601 =
  /^\s*\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?\s*$/;
/** The guide's registration call: a runtime report with no frame, sent once to create the project. */
export const REGISTRATION_TYPE = 'ProjectInit';

const nullableString = (max: number) => z.string().max(max).nullish();
const LEVEL_RE = new RegExp(LEVEL_PATTERN);
const LINE_NUMBER_TEXT = /^\d{1,9}$/;

/**
 * A runtime report must say where it failed. This rule lives in `superRefine` (so a body
 * missing all three gets one error per field), which JSON Schema cannot see; RUNTIME_RULE
 * states it for the OpenAPI document, and test/api/report-schema.test.ts holds the two to
 * the same verdicts.
 */
const RUNTIME_FIELDS = ['file_path', 'line_number', 'stack_trace'] as const;
export const RUNTIME_RULE = {
  if: {
    properties: {
      source: { const: 'runtime' },
      error: { properties: { type: { not: { const: REGISTRATION_TYPE } } } },
    },
  },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword
  then: {
    properties: {
      error: {
        required: [...RUNTIME_FIELDS],
        properties: Object.fromEntries(RUNTIME_FIELDS.map((field) => [field, { not: { type: 'null' } }])),
      },
    },
  },
};

/**
 * The report body (docs/api.md): one definition that validates every report and is the
 * OpenAPI document's `Report` schema.
 */
export const reportSchema = z
  .object({
    project_id: z
      .string()
      .regex(PROJECT_ID_PATTERN, `must match ${PROJECT_ID_PATTERN.source}`)
      .meta({ example: 'rtc_backend' }),
    environment: z
      .string()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .meta({ example: 'production' }),
    level: z
      .string()
      .regex(LEVEL_RE, `must be one of ${LEVELS.join(', ')} (WARN, FATAL accepted)`)
      .transform((value) => normaliseLevel(value) as Level)
      .meta({ example: 'ERROR', description: 'Case-insensitive; WARN and FATAL are aliases' }),
    source: z.enum(SOURCES).default('runtime'),
    timestamp: z
      .string()
      .regex(ISO_8601, 'must be an ISO 8601 date-time')
      .nullish()
      .meta({ description: 'ISO 8601; server time when absent; no offset means UTC' }),
    version: nullableString(128),
    commit_hash: nullableString(128),
    repo_url: nullableString(2048),
    error: z.object({
      type: z.string().min(1, 'must not be empty').max(256).meta({ example: 'ValueError' }),
      message: z.string(),
      file_path: nullableString(2048),
      line_number: z
        .union([
          z.number().int().nonnegative(),
          z.string().regex(LINE_NUMBER_TEXT, 'must be an integer').transform(Number),
        ])
        .nullish(),
      stack_trace: z
        .union([z.array(z.string()), z.string()])
        .nullish()
        .meta({ description: 'Lines, or one string split at newlines' }),
    }),
    context: z.record(z.string(), z.unknown()).nullish(),
    fingerprint: z
      .array(z.string().max(512))
      .min(1)
      .max(32)
      .optional()
      .meta({ description: 'Overrides grouping: the bug key becomes MD5 of project_id and these parts' }),
  })
  .superRefine((report, ctx) => {
    if (report.source !== 'runtime' || report.error.type === REGISTRATION_TYPE) return;
    for (const field of RUNTIME_FIELDS) {
      if (report.error[field] == null) {
        ctx.addIssue({ code: 'custom', path: ['error', field], message: 'required for runtime reports' });
      }
    }
  });

export interface NormalisedReport {
  projectId: string;
  environment: string;
  level: Level;
  source: Source;
  occurredAt: string;
  receivedAt: string;
  version: string | null;
  commitHash: string | null;
  repoUrl: string | null;
  errorType: string;
  message: string;
  filePath: string | null;
  lineNumber: number | null;
  /**
   * The stack lines and the context as stored: JSON, serialised once when the report is
   * normalised. A queued report holds these strings only, not the parsed lines and objects
   * they came from (one copy of a 200 KiB stack, not two or three).
   */
  stackJson: string;
  contextJson: string;
  fingerprint: string;
  /** Status a bug created by this report starts in. */
  initialStatus: 'NEW' | 'IGNORED';
  /**
   * Whether a new bug or a regression from this report queues an alert. The route clears it
   * when neither the project nor the server has an alert target: nothing would be sent.
   */
  alert: boolean;
}

export type ParseOutcome = { ok: true; report: NormalisedReport } | { ok: false; errors: FieldError[] };

/** What normaliseReport reads of a validated body: reportSchema's output, context aside. */
export interface CheckedReport {
  project_id: string;
  environment: string;
  level: Level;
  source: Source;
  timestamp?: string | null;
  version?: string | null;
  commit_hash?: string | null;
  repo_url?: string | null;
  error: {
    type: string;
    message: string;
    file_path?: string | null;
    line_number?: number | null;
    stack_trace?: string[] | string | null;
  };
  fingerprint?: string[];
}

type Body = Record<string, unknown>;
const isPlainObject = (value: unknown): value is Body =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
const nullishText = (value: unknown, max: number) =>
  value == null || (typeof value === 'string' && value.length <= max);
const allStrings = (value: unknown[], max = Number.POSITIVE_INFINITY) => {
  for (const item of value) if (typeof item !== 'string' || item.length > max) return false;
  return true;
};

/**
 * reportSchema's verdict and output for a body it accepts, checked by hand: the same rules
 * (the same patterns, limits and transforms), without zod's copy of the body and its issue
 * machinery, which cost more than the rest of a report's parsing. Undefined for any body
 * this is not sure of, which then goes through reportSchema, whose issues make the 422.
 * test/api/report-fast-check.test.ts holds the two to the same verdicts and outputs.
 */
export function checkedReport(body: unknown): CheckedReport | undefined {
  if (!isPlainObject(body)) return undefined;
  const { project_id, environment, level, source = 'runtime', timestamp, error, context, fingerprint } = body;
  if (typeof project_id !== 'string' || !PROJECT_ID_PATTERN.test(project_id)) return undefined;
  if (typeof environment !== 'string' || environment.length < 1 || environment.length > 64) return undefined;
  if (typeof level !== 'string' || !LEVEL_RE.test(level)) return undefined;
  if (typeof source !== 'string' || !(SOURCES as readonly string[]).includes(source)) return undefined;
  if (timestamp != null && (typeof timestamp !== 'string' || !ISO_8601.test(timestamp))) return undefined;
  if (!nullishText(body.version, 128) || !nullishText(body.commit_hash, 128)) return undefined;
  if (!nullishText(body.repo_url, 2048)) return undefined;
  if (context != null && !isPlainObject(context)) return undefined;
  if (
    fingerprint !== undefined &&
    (!Array.isArray(fingerprint) ||
      fingerprint.length < 1 ||
      fingerprint.length > 32 ||
      !allStrings(fingerprint, 512))
  )
    return undefined;
  if (!isPlainObject(error)) return undefined;
  const { type, message, file_path, line_number, stack_trace } = error;
  if (typeof type !== 'string' || type.length < 1 || type.length > 256) return undefined;
  if (typeof message !== 'string' || !nullishText(file_path, 2048)) return undefined;
  let line: number | null | undefined;
  if (line_number == null) line = line_number as null | undefined;
  else if (typeof line_number === 'number' && Number.isSafeInteger(line_number) && line_number >= 0)
    line = line_number;
  else if (typeof line_number === 'string' && LINE_NUMBER_TEXT.test(line_number)) line = Number(line_number);
  else return undefined;
  if (
    stack_trace != null &&
    typeof stack_trace !== 'string' &&
    !(Array.isArray(stack_trace) && allStrings(stack_trace))
  )
    return undefined;
  // The runtime rule (reportSchema's superRefine): a runtime report says where it failed.
  if (source === 'runtime' && type !== REGISTRATION_TYPE) {
    if (file_path == null || line == null || stack_trace == null) return undefined;
  }
  return {
    project_id,
    environment,
    level: normaliseLevel(level) as Level,
    source: source as Source,
    timestamp: timestamp as string | null | undefined,
    version: body.version as string | null | undefined,
    commit_hash: body.commit_hash as string | null | undefined,
    repo_url: body.repo_url as string | null | undefined,
    error: {
      type,
      message,
      file_path: file_path as string | null | undefined,
      line_number: line,
      stack_trace: stack_trace as string[] | string | null | undefined,
    },
    fingerprint: fingerprint as string[] | undefined,
  };
}

/** SQLite text ends at NUL on read, which would silently cut the rest of a field off. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point
const NUL = /\u0000/g;
const withoutNul = (text: string) => text.replace(NUL, '\uFFFD');

export function normaliseReport(body: unknown, receivedAt: string): ParseOutcome {
  let input = checkedReport(body);
  if (!input) {
    const parsed = reportSchema.safeParse(body);
    if (!parsed.success) return { ok: false, errors: issuesToFieldErrors(parsed.error.issues) };
    input = parsed.data;
  }
  // zod rebuilds a record by assignment, which turns a `__proto__` key into a prototype change
  // and loses it; the validated body's own object keeps every key as data.
  const rawContext = (body as { context?: Record<string, unknown> | null }).context ?? {};
  const context = storedContext(withoutSecrets(rawContext));
  const errorType = withoutNul(input.error.type);
  const filePath = input.error.file_path != null ? withoutNul(input.error.file_path) : null;
  const lineNumber = input.error.line_number ?? null;
  const fingerprint = computeFingerprint(
    {
      projectId: input.project_id,
      source: input.source,
      errorType,
      filePath,
      lineNumber,
      context: context.value,
    },
    input.fingerprint,
  );
  const report: NormalisedReport = {
    projectId: input.project_id,
    environment: withoutNul(input.environment),
    level: input.level,
    source: input.source,
    occurredAt: input.timestamp ? toUtcIso(input.timestamp) : receivedAt,
    receivedAt,
    version: input.version ? withoutNul(input.version) : null,
    commitHash: input.commit_hash ? input.commit_hash.trim().toLowerCase() : null,
    repoUrl: input.repo_url ? withoutNul(input.repo_url.trim()) || null : null,
    errorType,
    message: truncateBytes(stripAnsi(withoutNul(input.error.message)), LIMITS.messageBytes),
    filePath,
    lineNumber,
    stackJson: linesJson(normaliseStack(input.error.stack_trace)),
    contextJson: context.json,
    fingerprint,
    initialStatus: input.error.type === REGISTRATION_TYPE ? 'IGNORED' : 'NEW',
    alert: true,
  };
  return { ok: true, report };
}

function toUtcIso(value: string): string {
  const trimmed = value.trim();
  // A date-time without an offset (Python's isoformat()) is taken as UTC, not server-local time.
  const hasZone = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(trimmed) && trimmed.length > 10;
  return new Date(
    hasZone ? trimmed : `${trimmed.replace(' ', 'T')}${trimmed.length > 10 ? 'Z' : ''}`,
  ).toISOString();
}

/** One-shot `crypto.hash` where the runtime has it (Node 20.12+): no Hash object per report. */
export const md5: (text: string) => string =
  typeof hash === 'function'
    ? (text) => hash('md5', text, 'hex')
    : (text) => createHash('md5').update(text).digest('hex');

type FingerprintFields = Pick<
  NormalisedReport,
  'projectId' | 'source' | 'errorType' | 'filePath' | 'lineNumber'
> & { context: Record<string, unknown> };

const part = (value: unknown) => (value === null || value === undefined ? '' : String(value));

/** docs/api.md (grouping): MD5 hex of the source's parts joined by `|`; a missing part is the empty string. */
export function computeFingerprint(report: FingerprintFields, override?: string[]): string {
  if (override?.length) return md5([report.projectId, ...override].join('|'));
  const { context } = report;
  switch (report.source) {
    case 'cicd':
      return md5(
        [report.projectId, 'cicd', report.errorType, part(context.job_name), part(context.step_name)].join(
          '|',
        ),
      );
    case 'deployment':
      return md5(
        [
          report.projectId,
          'deployment',
          report.errorType,
          part(context.namespace),
          part(context.deployment_name),
        ].join('|'),
      );
    default:
      return md5(
        [report.projectId, report.errorType, part(report.filePath), part(report.lineNumber)].join('|'),
      );
  }
}

const SECRET_KEY = /password|passwd|secret|token|authorization|cookie|api[-_]?key|session/i;
export const FILTERED = '[Filtered]';

/**
 * Sets `key` as an own data property. Plain assignment of a `__proto__` key (which JSON.parse
 * creates as an own property) would call the prototype setter instead and drop the key.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Whether filterSecrets would hand back an equal copy: no secret key and nothing too deep. */
function holdsNoSecret(value: unknown, depth: number): boolean {
  if (depth > 32) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!holdsNoSecret(item, depth + 1)) return false;
    return true;
  }
  if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (SECRET_KEY.test(key) || !holdsNoSecret((value as Record<string, unknown>)[key], depth + 1))
        return false;
    }
  }
  return true;
}

/**
 * filterSecrets for a context, without the copy when there is nothing to filter (the usual
 * context): the same object back, read only from here on.
 */
export function withoutSecrets(context: Record<string, unknown>): Record<string, unknown> {
  return holdsNoSecret(context, 0) ? context : (filterSecrets(context) as Record<string, unknown>);
}

export function filterSecrets(value: unknown, depth = 0): unknown {
  if (depth > 32) return '[Too deep]';
  if (Array.isArray(value)) return value.map((item) => filterSecrets(item, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      setOwn(out, key, SECRET_KEY.test(key) ? FILTERED : filterSecrets(inner, depth + 1));
    }
    return out;
  }
  return value;
}

const encoder = new TextEncoder();
/** A UTF-16 code unit is at most 3 UTF-8 bytes: short text is within the limit without encoding it. */
const surelyWithin = (text: string, maxBytes: number) => text.length * 3 <= maxBytes;
export const byteLength = (text: string) => encoder.encode(text).length;

/** Where `truncateBytes` encodes the head of a text; grown to the largest limit asked for. */
let scratch = new Uint8Array(0);

export function truncateBytes(text: string, maxBytes: number): string {
  if (surelyWithin(text, maxBytes)) return text;
  if (scratch.length < maxBytes) scratch = new Uint8Array(maxBytes);
  // encodeInto writes whole characters only and stops when the buffer is full, so `read` is a
  // cut on a character boundary: nothing broken to strip, no regex over the text (a
  // trailing-run pattern backtracks quadratically on long runs of U+FFFD) and no decoding
  // (TextDecoder is several times slower on non-ASCII text than encoding is).
  const { read } = encoder.encodeInto(text, scratch.subarray(0, maxBytes));
  if (read >= text.length) return text;
  return `${text.slice(0, read)} …[truncated ${byteLength(text) - maxBytes} bytes]`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI sequences start with ESC
const ANSI_CSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
export const stripAnsi = (text: string) => text.replace(ANSI_CSI, '');

/** A line as stored: NUL replaced, ANSI sequences out, cut to LIMITS.stackLineBytes. */
function cleanLine(line: string): string {
  let text = line;
  if (text.includes('\u0000')) text = withoutNul(text);
  if (text.includes('\u001b')) text = stripAnsi(text);
  return truncateBytes(text, LIMITS.stackLineBytes);
}

export function normaliseStack(stack: string | string[] | null | undefined): string[] {
  if (stack == null) return [];
  const raw = Array.isArray(stack) ? stack : [stack];
  const cleaned: string[] = [];
  for (const entry of raw) {
    // Most entries are one line already: no splitting, no new strings.
    if (!entry.includes('\n') && !entry.includes('\r')) {
      cleaned.push(cleanLine(entry));
      continue;
    }
    for (const line of entry.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n'))
      cleaned.push(cleanLine(line));
  }
  if (cleaned.length <= LIMITS.stackLines) return cleaned;
  // Keep both ends: Python puts the failing frame last, JS first, CI logs end with the failure.
  const head = cleaned.slice(0, LIMITS.stackLines / 2);
  const tail = cleaned.slice(cleaned.length - (LIMITS.stackLines / 2 - 1));
  return [...head, `…[truncated ${cleaned.length - head.length - tail.length} lines]…`, ...tail];
}

/** Past this many characters, JSON.stringify hands back its parts joined, not one string. */
const ONE_PART_CHARS = 8 * 1024;

/**
 * JSON.stringify(lines), as one string. V8 builds a long JSON text in parts and copies them
 * into one string when it is first read (by the writer hand-off): for a 200 KiB stack that is
 * a second 200 KiB allocation, in the large-object space, per report. `join` writes its result
 * once, already whole.
 */
export function linesJson(lines: string[]): string {
  let chars = 0;
  for (const line of lines) chars += line.length;
  if (chars < ONE_PART_CHARS) return JSON.stringify(lines);
  const quoted = lines.map((line) => JSON.stringify(line));
  quoted[0] = `[${quoted[0]}`;
  quoted[quoted.length - 1] = `${quoted[quoted.length - 1]}]`;
  return quoted.join(',');
}

/** A context as stored: the object (for grouping) and its JSON, both within LIMITS.contextBytes. */
export interface StoredContext {
  value: Record<string, unknown>;
  json: string;
}

/**
 * Cuts a context to LIMITS.contextBytes of JSON, key by key, and serialises it: the JSON that
 * measured a context within the limit is the one stored, not made a second time.
 */
export function storedContext(context: Record<string, unknown>): StoredContext {
  const json = JSON.stringify(context);
  if (surelyWithin(json, LIMITS.contextBytes)) return { value: context, json };
  const size = byteLength(json);
  if (size <= LIMITS.contextBytes) return { value: context, json };
  const out: Record<string, unknown> = {
    _truncated: `context was ${size} bytes, limit ${LIMITS.contextBytes}`,
  };
  let used = byteLength(JSON.stringify(out));
  for (const [key, value] of Object.entries(context)) {
    const entry = byteLength(JSON.stringify({ [key]: value }));
    if (used + entry <= LIMITS.contextBytes) {
      setOwn(out, key, value);
      used += entry;
    } else {
      const marker = `[truncated: ${entry} bytes]`;
      used += byteLength(JSON.stringify({ [key]: marker }));
      if (used > LIMITS.contextBytes) break;
      setOwn(out, key, marker);
    }
  }
  return { value: out, json: JSON.stringify(out) };
}
