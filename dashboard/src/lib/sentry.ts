/** The SDKs the project page gives a setup snippet for (docs/sentry.md has the same four). */
export const SENTRY_SDKS = ['@sentry/browser', '@sentry/node', 'sentry-python', 'sentry_flutter'] as const;
export type SentrySdk = (typeof SENTRY_SDKS)[number];

/** A single-quoted literal; Dart also interpolates `$`, so it is escaped there too. */
const quoted = (text: string, dart = false) => `'${text.replace(dart ? /[\\'$]/g : /[\\']/g, '\\$&')}'`;

/** The few lines that point an SDK at this project, with its DSN filled in. */
export function sentrySnippet(sdk: SentrySdk, dsn: string): string {
  if (sdk === 'sentry-python')
    return `# pip install sentry-sdk\nimport sentry_sdk\n\nsentry_sdk.init(dsn=${quoted(dsn)})`;
  if (sdk === 'sentry_flutter') {
    return `// flutter pub add sentry_flutter
import 'package:sentry_flutter/sentry_flutter.dart';

Future<void> main() async {
  await SentryFlutter.init(
    (options) => options.dsn = ${quoted(dsn, true)},
    appRunner: () => runApp(const MyApp()),
  );
}`;
  }
  // @sentry/node hooks into modules as they load, so its init runs before the app's imports.
  const first =
    sdk === '@sentry/node' ? '\n// instrument.mjs, run first: node --import ./instrument.mjs app.mjs' : '';
  return `// npm install ${sdk}${first}
import * as Sentry from '${sdk}';

Sentry.init({ dsn: ${quoted(dsn)} });`;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A scalar as text; anything else (objects, arrays, empty strings) counts as absent. */
function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() ? value : null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

const joined = (parts: (string | null)[], separator = ' ') =>
  parts.filter((p) => p !== null).join(separator) || null;

/** Breadcrumb times are epoch seconds or RFC 3339; shown as local time of day to the millisecond. */
export function crumbTime(value: unknown): string {
  const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) return text(value) ?? '';
  const date = new Date(ms);
  return `${date.toTimeString().slice(0, 8)}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * A breadcrumb's message. HTTP breadcrumbs (fetch, xhr) have none, so their request stands in;
 * others without one (navigation) show their data.
 */
function crumbMessage(crumb: Json): string {
  const message = text(crumb.message);
  if (message) return message;
  const data = crumb.data;
  if (!isObject(data)) return '';
  const status = text(data.status_code);
  return (
    joined([text(data.method), text(data.url), status && `[${status}]`]) ??
    (Object.keys(data).length ? JSON.stringify(data) : '')
  );
}

export interface Breadcrumb {
  time: string;
  category: string;
  level: string;
  message: string;
}

export interface SentryDetails {
  sdk: string | null;
  platform: string | null;
  user: string | null;
  request: string | null;
  breadcrumbs: Breadcrumb[];
}

/**
 * What a bug made from a Sentry event keeps in its context (functions/services/sentry/event.ts),
 * read defensively: every value came from the reporting app, so each is reduced to text.
 * Null when the context holds none of it.
 */
export function sentryDetails(context: Json): SentryDetails | null {
  const sdk = isObject(context.sdk) ? joined([text(context.sdk.name), text(context.sdk.version)]) : null;
  const user = isObject(context.user)
    ? joined(
        ['id', 'username', 'email', 'ip_address'].map((key) => text((context.user as Json)[key])),
        ' · ',
      )
    : null;
  const request = isObject(context.request)
    ? joined([text(context.request.method), text(context.request.url)])
    : null;
  const crumbs = Array.isArray(context.breadcrumbs) ? context.breadcrumbs.filter(isObject) : [];
  const details: SentryDetails = {
    sdk,
    platform: text(context.platform),
    user,
    request,
    breadcrumbs: crumbs.map((crumb) => ({
      time: crumbTime(crumb.timestamp),
      category: text(crumb.category) ?? text(crumb.type) ?? '',
      level: text(crumb.level) ?? '',
      message: crumbMessage(crumb),
    })),
  };
  const found = Object.values(details).some((value) => (Array.isArray(value) ? value.length : value));
  return found ? details : null;
}
