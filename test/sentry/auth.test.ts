import { describe, expect, it } from 'vitest';
import {
  checkSentryKey,
  keyFromDsn,
  keyFromSentryAuth,
  requestKey,
  sentryDsn,
} from '../../functions/services/sentry/auth';

const KEY = 'e12d836b15bb49d7bbf99e64295d995b';

describe('sentryDsn', () => {
  it('writes {scheme}://{key}@{host}[/{path}]/{N}', () => {
    expect(sentryDsn('https://logs.example.com', 3, KEY)).toBe(`https://${KEY}@logs.example.com/3`);
    expect(sentryDsn('https://logs.example.com/', 3, KEY)).toBe(`https://${KEY}@logs.example.com/3`);
    expect(sentryDsn('http://10.0.0.5:8002', 12, KEY)).toBe(`http://${KEY}@10.0.0.5:8002/12`);
    expect(sentryDsn('https://example.com/log-center/', 1, KEY)).toBe(
      `https://${KEY}@example.com/log-center/1`,
    );
  });

  it('uses "public" when the project has no ingest key', () => {
    expect(sentryDsn('https://logs.example.com', 3, null)).toBe('https://public@logs.example.com/3');
    expect(sentryDsn('https://logs.example.com', 3, '')).toBe('https://public@logs.example.com/3');
  });

  it('is null for a stored key SDKs would reject, a missing number or a base that is not http(s)', () => {
    expect(sentryDsn('https://logs.example.com', 3, 'short')).toBeNull();
    expect(sentryDsn('https://logs.example.com', 3, 'has-dash-in-it')).toBeNull();
    expect(sentryDsn('https://logs.example.com', 3, 'k'.repeat(201))).toBeNull();
    expect(sentryDsn('https://logs.example.com', null, KEY)).toBeNull();
    expect(sentryDsn('https://logs.example.com', 0, KEY)).toBeNull();
    expect(sentryDsn('not a url', 3, KEY)).toBeNull();
    expect(sentryDsn('ftp://logs.example.com', 3, KEY)).toBeNull();
  });

  it('round-trips through the key parser', () => {
    expect(keyFromDsn(sentryDsn('https://logs.example.com', 3, KEY))).toBe(KEY);
  });
});

describe('keyFromSentryAuth', () => {
  it('reads the header sentry-python sends', () => {
    const header = `Sentry sentry_key=${KEY}, sentry_version=7, sentry_client=sentry.python/2.19.0`;
    expect(keyFromSentryAuth(header)).toBe(KEY);
  });

  it('takes the scheme case-insensitively, and names with or without the sentry_ prefix', () => {
    expect(keyFromSentryAuth(`sentry sentry_version=7,sentry_key=${KEY}`)).toBe(KEY);
    expect(keyFromSentryAuth(`SENTRY key=${KEY}`)).toBe(KEY);
  });

  it('finds nothing in other schemes or an empty key', () => {
    expect(keyFromSentryAuth(`Bearer ${KEY}`)).toBeUndefined();
    expect(keyFromSentryAuth('Sentry sentry_key=, sentry_version=7')).toBeUndefined();
    expect(keyFromSentryAuth(undefined)).toBeUndefined();
  });
});

describe('requestKey', () => {
  const url = (query = '') => `https://logs.example.com/api/3/envelope/${query}`;

  it('reads the query string the JS SDKs use', () => {
    const query = `?sentry_version=7&sentry_key=${KEY}&sentry_client=sentry.javascript.browser%2F10.5.0`;
    expect(requestKey(url(query), new Headers())).toBe(KEY);
  });

  it('prefers the query, then X-Sentry-Auth, then Authorization', () => {
    const headers = new Headers({
      'X-Sentry-Auth': 'Sentry sentry_key=from_header',
      Authorization: 'Sentry sentry_key=from_authorization',
    });
    expect(requestKey(url('?sentry_key=from_query'), headers)).toBe('from_query');
    expect(requestKey(url(), headers)).toBe('from_header');
    headers.delete('X-Sentry-Auth');
    expect(requestKey(url(), headers)).toBe('from_authorization');
    expect(requestKey(url(), new Headers({ Authorization: `Basic ${btoa(`${KEY}:`)}` }))).toBe(KEY);
  });

  it('skips an empty query parameter and finds nothing when none is sent', () => {
    expect(
      requestKey(url('?sentry_key='), new Headers({ 'X-Sentry-Auth': `Sentry sentry_key=${KEY}` })),
    ).toBe(KEY);
    expect(requestKey(url(), new Headers({ Authorization: 'Bearer abc' }))).toBeUndefined();
  });
});

describe('keyFromDsn', () => {
  it('reads the public key of an envelope header dsn, with or without a secret', () => {
    expect(keyFromDsn(`https://${KEY}@o1.ingest.example.com/42`)).toBe(KEY);
    expect(keyFromDsn(`https://${KEY}:@sentry.io/42`)).toBe(KEY);
    expect(keyFromDsn('https://sentry.io/42')).toBeUndefined();
    expect(keyFromDsn(42)).toBeUndefined();
    expect(keyFromDsn('nonsense')).toBeUndefined();
  });
});

describe('checkSentryKey', () => {
  it('takes any non-empty key for a project without an ingest key', () => {
    expect(checkSentryKey('public', null)).toBe('ok');
    expect(checkSentryKey('anything', undefined)).toBe('ok');
    expect(checkSentryKey(undefined, null)).toBe('missing');
  });

  it('takes only the ingest key when the project has one', () => {
    expect(checkSentryKey(KEY, KEY)).toBe('ok');
    expect(checkSentryKey('public', KEY)).toBe('invalid');
    expect(checkSentryKey(`${KEY}x`, KEY)).toBe('invalid');
    expect(checkSentryKey(undefined, KEY)).toBe('missing');
  });
});
