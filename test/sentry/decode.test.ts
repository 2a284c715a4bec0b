import {
  brotliCompressSync,
  constants,
  createBrotliCompress,
  deflateRawSync,
  deflateSync,
  gzipSync,
} from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../functions/lib/errors';
import { decodeBody, parseContentEncoding, readRawBody } from '../../functions/services/sentry/decode';
import { SENTRY_LIMITS } from '../../functions/services/sentry/limits';
import { nodeEnvelope } from './fixtures';

const body = nodeEnvelope();

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => {
      throw new Error('decoded what it should have refused');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const MiB = 1024 * 1024;

/**
 * 1 GiB of zeros as raw deflate in about 1 MiB, built in milliseconds: a 16 MiB block ended
 * with a full flush (no back-references past it) repeated 64 times, then an empty final block.
 */
function rawDeflateBomb(): Buffer {
  const block = deflateRawSync(Buffer.alloc(16 * MiB), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  return Buffer.concat([...Array.from({ length: 64 }, () => block), deflateRawSync(Buffer.alloc(0))]);
}

/**
 * The same stream in gzip and zlib framing. The trailing checksums are made up: a decoder that
 * stops at the cap never reaches them, one that inflated the whole GiB would call it corrupt.
 */
const gzipBomb = (raw: Buffer) =>
  Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), raw, Buffer.alloc(8)]);
const zlibBomb = (raw: Buffer) => Buffer.concat([Buffer.from([0x78, 0xda]), raw, Buffer.alloc(4)]);

async function brotliBomb(): Promise<Buffer> {
  const compressor = createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
  const chunks: Buffer[] = [];
  compressor.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => compressor.on('end', resolve));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < 1024; i++) {
    if (!compressor.write(zeros)) await new Promise((resolve) => compressor.once('drain', resolve));
  }
  compressor.end();
  await ended;
  return Buffer.concat(chunks);
}

describe('parseContentEncoding', () => {
  it('ignores what Relay ignores: none, empty, identity, UTF-8', () => {
    for (const header of [null, undefined, '', ' ', 'identity', 'UTF-8', 'utf-8']) {
      expect(parseContentEncoding(header)).toEqual([]);
    }
  });

  it('reads gzip, deflate and br, case-insensitively and in order', () => {
    expect(parseContentEncoding('GZIP')).toEqual(['gzip']);
    expect(parseContentEncoding('x-gzip')).toEqual(['gzip']);
    expect(parseContentEncoding('deflate, br')).toEqual(['deflate', 'br']);
  });

  it('refuses anything else as unsupported_encoding', () => {
    for (const header of ['zstd', 'compress', 'gzip, snappy']) {
      const error = (() => {
        try {
          parseContentEncoding(header);
        } catch (e) {
          return e as AppError;
        }
        throw new Error(`accepted ${header}`);
      })();
      expect(error.code).toBe('unsupported_encoding');
    }
  });
});

describe('decodeBody', () => {
  it('passes an unencoded body through', async () => {
    expect(await decodeBody(body, [])).toBe(body);
  });

  it.each([
    ['gzip', gzipSync(body), ['gzip']],
    ['deflate (zlib)', deflateSync(body), ['deflate']],
    ['deflate (raw, as Relay also takes it)', deflateRawSync(body), ['deflate']],
    ['br', brotliCompressSync(body), ['br']],
    ['deflate then br', brotliCompressSync(deflateSync(body)), ['deflate', 'br']],
  ] as const)('decodes %s', async (_name, encoded, encodings) => {
    expect(await decodeBody(new Uint8Array(encoded), encodings)).toEqual(body);
  });

  it('reads raw deflate whose first bytes happen to look like a zlib header', async () => {
    // A stored block of "x" opening with 0x78 0x01, then an empty final block.
    const raw = Uint8Array.from([0x78, 0x01, 0x00, 0xfe, 0xff, 0x78, 0x03, 0x00]);
    expect(new TextDecoder().decode(await decodeBody(raw, ['deflate']))).toBe('x');
  });

  it.each([
    ['gzip', gzipSync(body).subarray(0, 40), ['gzip']],
    ['gzip', new TextEncoder().encode('{"not":"gzip"}'), ['gzip']],
    ['deflate', new TextEncoder().encode('{"not":"deflate"}'), ['deflate']],
    ['br', brotliCompressSync(body).subarray(0, 30), ['br']],
  ] as const)('refuses a corrupt %s stream as invalid_encoding', async (encoding, encoded, encodings) => {
    const error = await failure(decodeBody(new Uint8Array(encoded), encodings));
    expect(error.code).toBe('invalid_encoding');
    expect(error.message).toBe(`Body is not a valid ${encoding} stream`);
  });

  it('allows exactly the cap and refuses one byte more', async () => {
    const exact = new Uint8Array(1000).fill(7);
    expect((await decodeBody(gzipSync(exact), ['gzip'], 1000)).byteLength).toBe(1000);
    const error = await failure(decodeBody(gzipSync(new Uint8Array(1001)), ['gzip'], 1000));
    expect(error.code).toBe('payload_too_large');
  });

  // Inflating 1 GiB takes seconds and a GiB of buffers; stopping at the cap, milliseconds.
  it.each([
    ['gzip', async () => gzipBomb(rawDeflateBomb()), 'gzip'],
    ['deflate', async () => zlibBomb(rawDeflateBomb()), 'deflate'],
    ['raw deflate', async () => rawDeflateBomb(), 'deflate'],
    ['br', brotliBomb, 'br'],
  ] as const)(
    'stops a 1 GiB %s bomb at 4 MiB with a 413, without inflating it',
    async (_name, build, encoding) => {
      const encoded = await build();
      expect(encoded.byteLength).toBeLessThanOrEqual(SENTRY_LIMITS.bodyBytes);
      const before = process.memoryUsage().arrayBuffers;
      const started = performance.now();
      const error = await failure(decodeBody(encoded, [encoding]));
      expect(error.code).toBe('payload_too_large');
      expect(error.message).toBe('Decompressed body exceeds 4194304 bytes (4 MiB)');
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * MiB);
    },
  );
});

describe('readRawBody', () => {
  const streamOf = (...chunks: Uint8Array[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });

  it('joins the chunks of a chunked body', async () => {
    const raw = await readRawBody(streamOf(body.subarray(0, 10), body.subarray(10)));
    expect(raw).toEqual(body);
    expect(await readRawBody(null)).toEqual(new Uint8Array(0));
  });

  it('stops reading past the limit', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const error = await failure(readRawBody(endless, SENTRY_LIMITS.bodyBytes));
    expect(error.code).toBe('payload_too_large');
    expect(pulled).toBeLessThan(20);
  });
});
