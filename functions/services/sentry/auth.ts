import { safeEqual } from '../../lib/secrets';

/**
 * A key Sentry SDKs accept in a DSN's user part (their DSN parsers match `\w+`), so only such
 * an ingest key can be written into a DSN.
 */
export const INGEST_KEY_PATTERN = /^\w{8,200}$/;

/** The DSN user part for a project without an ingest key: SDKs need one, any will do. */
export const PUBLIC_KEY = 'public';

/**
 * `{scheme}://{key}@{host}[/{path}]/{sentryId}`: the DSN a Sentry SDK is given to report here.
 * Null when it cannot be written: no sentry id yet, a stored ingest key SDKs would reject
 * (the project should rotate it), or a base URL that is not http(s).
 */
export function sentryDsn(
  publicUrl: string,
  sentryId: number | null | undefined,
  ingestKey: string | null | undefined,
): string | null {
  if (typeof sentryId !== 'number' || !Number.isSafeInteger(sentryId) || sentryId < 1) return null;
  let key = PUBLIC_KEY;
  if (ingestKey) {
    if (!INGEST_KEY_PATTERN.test(ingestKey)) return null;
    key = ingestKey;
  }
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol.slice(0, -1)}://${key}@${url.host}${path}/${sentryId}`;
}

const nonEmpty = (value: string | null | undefined) => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
};

/**
 * The key from `Sentry sentry_key=..., sentry_version=7, sentry_client=...` (X-Sentry-Auth, or
 * Authorization as Relay also reads it). Names are read with or without the `sentry_` prefix.
 */
export function keyFromSentryAuth(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^\s*sentry\s+/i.exec(header);
  if (!match) return undefined;
  for (const pair of header.slice(match[0].length).split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim().toLowerCase();
    if (name === 'sentry_key' || name === 'key')
      return nonEmpty(pair.slice(eq + 1).replace(/^\s*"|"\s*$/g, ''));
  }
  return undefined;
}

/** `Authorization: Basic base64(key:)`, which Relay accepts as well. */
function keyFromBasicAuth(header: string | null | undefined): string | undefined {
  const match = header ? /^\s*basic\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) return undefined;
  try {
    const decoded = new TextDecoder().decode(Uint8Array.from(atob(match[1]!), (ch) => ch.charCodeAt(0)));
    const colon = decoded.indexOf(':');
    return nonEmpty(colon < 0 ? decoded : decoded.slice(0, colon));
  } catch {
    return undefined;
  }
}

/** The public key of a DSN (`https://<key>@host/1`), as sent in an envelope header's `dsn`. */
export function keyFromDsn(dsn: unknown): string | undefined {
  if (typeof dsn !== 'string') return undefined;
  try {
    return nonEmpty(decodeURIComponent(new URL(dsn).username));
  } catch {
    return undefined;
  }
}

/**
 * The key a request carries outside its body, first present of: `sentry_key` query parameter
 * (the JS SDKs, which avoid a preflight), `X-Sentry-Auth` (sentry-python and most others),
 * `Authorization: Sentry ...` or `Basic ...`. An envelope's `dsn` header is the last resort;
 * the caller reads it once the body is parsed.
 */
export function requestKey(url: string, headers: Headers): string | undefined {
  let query: string | undefined;
  try {
    query = nonEmpty(new URL(url).searchParams.get('sentry_key'));
  } catch {
    query = undefined;
  }
  const authorization = headers.get('Authorization');
  return (
    query ??
    keyFromSentryAuth(headers.get('X-Sentry-Auth')) ??
    keyFromSentryAuth(authorization) ??
    keyFromBasicAuth(authorization)
  );
}

export type KeyCheck = 'ok' | 'missing' | 'invalid';

/**
 * A project without an ingest key takes any non-empty key (the DSN says `public`); one with a
 * key takes only that key, compared in constant time.
 */
export function checkSentryKey(given: string | undefined, ingestKey: string | null | undefined): KeyCheck {
  if (!given) return 'missing';
  if (!ingestKey) return 'ok';
  return safeEqual(given, ingestKey) ? 'ok' : 'invalid';
}
