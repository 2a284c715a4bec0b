import { AppError } from '../../lib/errors';

export interface EnvelopeItem {
  /** `event`, `transaction`, `attachment`, ... as the item header says; unknown types kept. */
  type: string;
  header: Record<string, unknown>;
  /** Exactly the item's bytes: `length` counts bytes, not UTF-16 code units. */
  payload: Uint8Array;
}

export interface Envelope {
  header: Record<string, unknown>;
  items: EnvelopeItem[];
}

const NEWLINE = 0x0a;
const utf8 = new TextDecoder();

const invalid = (message: string) => new AppError('invalid_envelope', message);

const isBlank = (byte: number) => byte === NEWLINE || byte === 0x0d || byte === 0x20 || byte === 0x09;

function parseHeader(line: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(line));
  } catch (error) {
    throw invalid(`${what} is not JSON: ${(error as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Parses a Sentry envelope (develop.sentry.dev data-model/envelopes): a JSON header line,
 * then items, each a JSON header line and a payload of `length` bytes followed by `\n` or
 * the end, or without `length` everything up to the next `\n` or the end. Blank lines before
 * an item header are skipped, as Relay's JSON stream reader does, so a trailing newline (or
 * two) is fine. A header that is not a JSON object, an item without a type or a payload
 * shorter than its `length` is an `invalid_envelope` error.
 */
export function parseEnvelope(bytes: Uint8Array): Envelope {
  let offset = 0;
  const readLine = () => {
    const end = bytes.indexOf(NEWLINE, offset);
    const stop = end < 0 ? bytes.byteLength : end;
    const line = bytes.subarray(offset, stop);
    offset = end < 0 ? bytes.byteLength : end + 1;
    return line;
  };

  if (bytes.byteLength === 0) throw invalid('Envelope is empty: it needs at least a header line');
  const header = parseHeader(readLine(), 'Envelope header');
  const items: EnvelopeItem[] = [];
  for (;;) {
    while (offset < bytes.byteLength && isBlank(bytes[offset]!)) offset++;
    if (offset >= bytes.byteLength) break;
    const n = items.length + 1;
    const itemHeader = parseHeader(readLine(), `Item ${n} header`);
    const { type, length } = itemHeader;
    if (typeof type !== 'string' || type === '') throw invalid(`Item ${n} header has no "type"`);
    let payload: Uint8Array;
    if (length === undefined || length === null) {
      payload = readLine();
    } else {
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
        throw invalid(`Item ${n} (${type}) has a "length" that is not a byte count`);
      }
      const available = bytes.byteLength - offset;
      if (length > available) {
        throw invalid(`Item ${n} (${type}) declares ${length} bytes but only ${available} follow`);
      }
      payload = bytes.subarray(offset, offset + length);
      offset += length;
      // `\n` or the end ends the payload; `\r\n` is taken too, from clients built on Windows.
      if (bytes[offset] === 0x0d && (offset + 1 === bytes.byteLength || bytes[offset + 1] === NEWLINE))
        offset++;
      if (offset < bytes.byteLength) {
        if (bytes[offset] !== NEWLINE) {
          throw invalid(`Item ${n} (${type}) is not followed by a newline after its ${length} bytes`);
        }
        offset++;
      }
    }
    items.push({ type, header: itemHeader, payload });
  }
  return { header, items };
}
