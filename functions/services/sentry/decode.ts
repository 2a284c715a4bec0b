import {
  brotliDecompress,
  brotliDecompressSync,
  gunzip,
  gunzipSync,
  inflateRaw,
  inflateRawSync,
  inflateSync,
  inflate as inflateZlib,
} from 'node:zlib';
import { readLimited } from '../../lib/body';
import { AppError } from '../../lib/errors';
import { SENTRY_LIMITS } from './limits';

export type ContentEncoding = 'gzip' | 'deflate' | 'br';

const ALIASES: Record<string, ContentEncoding> = {
  gzip: 'gzip',
  'x-gzip': 'gzip',
  deflate: 'deflate',
  br: 'br',
};

/**
 * The encodings applied to a body, in the order they were applied. Empty, `identity` and
 * `UTF-8` (sentry-ruby 5 and sentry-android 2 send the last two) mean none, as in Relay.
 * Anything else is refused before the body is read.
 */
export function parseContentEncoding(header: string | null | undefined): ContentEncoding[] {
  if (!header) return [];
  const applied: ContentEncoding[] = [];
  for (const token of header.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || name === 'identity' || name === 'utf-8') continue;
    const encoding = ALIASES[name];
    if (!encoding) {
      throw new AppError(
        'unsupported_encoding',
        `Content-Encoding ${JSON.stringify(token.trim())} is not supported; send gzip, deflate, br or none`,
      );
    }
    applied.push(encoding);
  }
  return applied;
}

const tooLarge = (what: string, maxBytes: number) =>
  new AppError('payload_too_large', `${what} exceeds ${maxBytes} bytes (${maxBytes / 1024 / 1024} MiB)`);

/** Reads a body (chunked or not) without ever holding more than `maxBytes` of it. */
export function readRawBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number = SENTRY_LIMITS.bodyBytes,
): Promise<Uint8Array> {
  return readLimited(body, maxBytes, () => tooLarge('Body', maxBytes));
}

const corrupt = (encoding: ContentEncoding) =>
  new AppError('invalid_encoding', `Body is not a valid ${encoding} stream`);

/** Output buffers of 64 KiB (zlib's default is 16): a few MiB is fewer round trips to the pool. */
const CHUNK_BYTES = 64 * 1024;

type Inflater = (
  input: Uint8Array,
  options: { maxOutputLength: number; chunkSize: number },
  callback: (error: Error | null, result: Buffer) => void,
) => void;

/**
 * node:zlib rather than `DecompressionStream`: workerd (nodejs_compat) and Node both have it,
 * brotli included, and `maxOutputLength` stops inflating at the cap. workerd's
 * DecompressionStream hands a 1 MiB gzip bomb's first 4 MiB out in 4 KiB reads over seconds
 * of CPU, and neither runtime's DecompressionStream takes brotli.
 */
type SyncInflater = (input: Uint8Array, options: { maxOutputLength: number }) => Buffer;

const SYNC_OF = new Map<Inflater, SyncInflater>([
  [gunzip as Inflater, gunzipSync],
  [inflateZlib as Inflater, inflateSync],
  [inflateRaw as Inflater, inflateRawSync],
  [brotliDecompress as Inflater, brotliDecompressSync],
]);

/**
 * Bodies up to this size inflate on the calling thread. An SDK's event is a few KiB, and the
 * hop to the thread pool and back costs more than inflating it (~250 µs against ~30 µs for a
 * 2 KiB gzip event). A ~1 MiB event arrives as ~170 KiB of gzip: in the pool it inflates in
 * 64 KiB pieces, one trip each, and those buffers live long enough to be promoted and wait for
 * a full collection (some 50 MB of them at the peak of 50 such uploads); inflated here they
 * are garbage within the call. That costs the event loop ~5 ms per such event, on top of the
 * ~5 ms its JSON.parse already takes (docs/performance.md, Memory). Larger bodies, up to the
 * 1 MiB limit, still go to the pool.
 */
const INLINE_BYTES = 256 * 1024;

function inflate(inflater: Inflater, encoding: ContentEncoding, raw: Uint8Array, maxBytes: number) {
  const sync = raw.byteLength <= INLINE_BYTES ? SYNC_OF.get(inflater) : undefined;
  if (sync) {
    try {
      // zlib's default 16 KiB output chunks: a small event fits in one or two.
      const result = sync(raw, { maxOutputLength: maxBytes });
      return Promise.resolve(new Uint8Array(result.buffer, result.byteOffset, result.byteLength));
    } catch (error) {
      return Promise.reject(
        error instanceof RangeError ? tooLarge('Decompressed body', maxBytes) : corrupt(encoding),
      );
    }
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    inflater(raw, { maxOutputLength: maxBytes, chunkSize: CHUNK_BYTES }, (error, result) => {
      if (!error) resolve(new Uint8Array(result.buffer, result.byteOffset, result.byteLength));
      // Both runtimes signal the cap with a RangeError (Node's ERR_BUFFER_TOO_LARGE).
      else reject(error instanceof RangeError ? tooLarge('Decompressed body', maxBytes) : corrupt(encoding));
    });
  });
}

/** Two bytes whose big-endian value is a multiple of 31, with method 8 (RFC 1950). */
function hasZlibHeader(raw: Uint8Array): boolean {
  if (raw.byteLength < 2) return false;
  const cmf = raw[0]!;
  const flg = raw[1]!;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

/**
 * `deflate` means a zlib-wrapped stream (RFC 9110), but some clients send raw deflate, which
 * Relay takes too: without a zlib header, or when the "header" was a raw block's first bytes.
 */
async function undeflate(raw: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (!hasZlibHeader(raw)) return inflate(inflateRaw, 'deflate', raw, maxBytes);
  try {
    return await inflate(inflateZlib, 'deflate', raw, maxBytes);
  } catch (error) {
    if (error instanceof AppError && error.code === 'invalid_encoding') {
      return inflate(inflateRaw, 'deflate', raw, maxBytes);
    }
    throw error;
  }
}

/**
 * Undoes the body's Content-Encoding (as parsed by `parseContentEncoding`), never producing
 * more than `maxBytes`: past it, 413; a stream that does not decode, 400.
 */
export async function decodeBody(
  raw: Uint8Array,
  encodings: readonly ContentEncoding[],
  maxBytes: number = SENTRY_LIMITS.decodedBytes,
): Promise<Uint8Array> {
  let body = raw;
  for (let i = encodings.length - 1; i >= 0; i--) {
    switch (encodings[i]) {
      case 'gzip':
        body = await inflate(gunzip, 'gzip', body, maxBytes);
        break;
      case 'deflate':
        body = await undeflate(body, maxBytes);
        break;
      case 'br':
        body = await inflate(brotliDecompress, 'br', body, maxBytes);
        break;
    }
  }
  if (body.byteLength > maxBytes) throw tooLarge('Decompressed body', maxBytes);
  return body;
}
