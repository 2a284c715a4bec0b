import { describe, expect, it } from 'vitest';
import { AppError } from '../../functions/lib/errors';
import { parseEnvelope } from '../../functions/services/sentry/envelope';
import { EVENT_ID, envelope, nodeEnvelope, nodeUncaughtEvent, pythonEnvelope } from './fixtures';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const HEADER = `{"event_id":"${EVENT_ID}","dsn":"https://public@logs.example.com/3"}`;

function invalid(body: Uint8Array): AppError {
  try {
    parseEnvelope(body);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_envelope');
    return error as AppError;
  }
  throw new Error('parsed an invalid envelope');
}

describe('parseEnvelope', () => {
  it('reads an @sentry/node envelope: items without length run to the end', () => {
    const parsed = parseEnvelope(nodeEnvelope());
    expect(parsed.header.event_id).toBe(EVENT_ID);
    expect(parsed.items).toHaveLength(1);
    expect(parsed.items[0]!.type).toBe('event');
    expect(JSON.parse(decoder.decode(parsed.items[0]!.payload))).toEqual(nodeUncaughtEvent());
  });

  it('reads items without length up to the next newline', () => {
    const parsed = parseEnvelope(
      bytes(
        `${HEADER}\n{"type":"event"}\n{"message":"a"}\n{"type":"client_report"}\n{"discarded_events":[]}`,
      ),
    );
    expect(parsed.items.map((i) => [i.type, decoder.decode(i.payload)])).toEqual([
      ['event', '{"message":"a"}'],
      ['client_report', '{"discarded_events":[]}'],
    ]);
  });

  it('counts length in bytes, not characters (multibyte UTF-8)', () => {
    const payload = '{"message":"héllo 世界 🎉\\nnot a line break"}';
    const byteLength = bytes(payload).byteLength;
    expect(byteLength).toBeGreaterThan(payload.length);
    const body = bytes(
      `${HEADER}\n{"type":"event","length":${byteLength}}\n${payload}\n{"type":"session"}\n{"sid":"1"}\n`,
    );
    const parsed = parseEnvelope(body);
    expect(decoder.decode(parsed.items[0]!.payload)).toBe(payload);
    expect(parsed.items[1]!.type).toBe('session');

    // The same envelope measured in UTF-16 code units is cut mid-payload.
    const wrong = bytes(`${HEADER}\n{"type":"event","length":${payload.length}}\n${payload}\n`);
    expect(invalid(wrong).message).toMatch(/not followed by a newline/);
  });

  it('takes binary payloads with newlines inside when length is given (sentry-python attachments)', () => {
    const log = bytes('line 1\nline 2\n\u0000\u00ff');
    const body = pythonEnvelope(nodeUncaughtEvent(), [
      { header: { type: 'attachment', filename: 'app.log', content_type: 'text/plain' }, payload: log },
    ]);
    const parsed = parseEnvelope(body);
    expect(parsed.items.map((i) => i.type)).toEqual(['event', 'attachment']);
    expect(parsed.items[1]!.payload).toEqual(log);
  });

  it('accepts an envelope with no items, with or without a newline', () => {
    expect(parseEnvelope(bytes(HEADER))).toEqual({ header: JSON.parse(HEADER), items: [] });
    expect(parseEnvelope(bytes(`${HEADER}\n`)).items).toEqual([]);
    expect(parseEnvelope(bytes('{}')).items).toEqual([]);
  });

  it('tolerates a trailing newline (or two, or CRLF) after the last payload', () => {
    for (const tail of ['\n', '\n\n', '\r\n']) {
      const parsed = parseEnvelope(bytes(`${HEADER}\n{"type":"event","length":2}\n{}${tail}`));
      expect(parsed.items).toHaveLength(1);
    }
    expect(parseEnvelope(bytes(`${HEADER}\n{"type":"event"}\n{}\n`)).items).toHaveLength(1);
  });

  it('reads empty items as Relay does: length 0, or a header at the end', () => {
    const parsed = parseEnvelope(
      bytes(
        `${HEADER}\n{"type":"attachment","length":0}\n\n{"type":"attachment","length":0}\n\n{"type":"attachment"}`,
      ),
    );
    expect(parsed.items.map((i) => i.payload.byteLength)).toEqual([0, 0, 0]);
  });

  it('accepts every item type and keeps them for the caller to drop', () => {
    const types = [
      'transaction',
      'session',
      'sessions',
      'client_report',
      'attachment',
      'check_in',
      'span',
      'log',
      'profile',
      'profile_chunk',
      'replay_event',
      'replay_recording',
      'feedback',
      'user_report',
      'statsd',
      'something_new',
    ];
    const body = envelope(
      { event_id: EVENT_ID },
      types.map((type) => ({ header: { type }, payload: { type }, withLength: type.length % 2 === 0 })),
    );
    expect(parseEnvelope(body).items.map((i) => i.type)).toEqual(types);
  });

  it('refuses a short read', () => {
    const error = invalid(bytes(`${HEADER}\n{"type":"event","length":500}\n{"message":"cut off"}`));
    expect(error.message).toBe('Item 1 (event) declares 500 bytes but only 21 follow');
  });

  it('refuses a header that is not JSON, or not an object', () => {
    expect(invalid(bytes('not json\n{"type":"event"}\n{}')).message).toMatch(/^Envelope header is not JSON/);
    expect(invalid(bytes('[1]\n')).message).toBe('Envelope header is not a JSON object');
    expect(invalid(bytes(`${HEADER}\n{"type":"event"\n{}`)).message).toMatch(/^Item 1 header is not JSON/);
    expect(invalid(bytes(`${HEADER}\n{"length":2}\n{}`)).message).toBe('Item 1 header has no "type"');
    expect(invalid(bytes(`${HEADER}\n{"type":"event","length":"2"}\n{}`)).message).toMatch(
      /not a byte count/,
    );
    expect(invalid(bytes(`${HEADER}\n{"type":"event","length":-1}\n{}`)).message).toMatch(/not a byte count/);
  });

  it('refuses an empty body', () => {
    expect(invalid(new Uint8Array(0)).message).toMatch(/empty/);
  });
});
