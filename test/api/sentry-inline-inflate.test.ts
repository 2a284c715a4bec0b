import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sentryLargeEnvelope } from '../../bench/sentry-envelope';
import { decodeBody } from '../../functions/services/sentry/decode';
import { SENTRY_LIMITS } from '../../functions/services/sentry/limits';

/**
 * Where a gzip body is inflated (docs/performance.md, Memory): a ~1 MiB Sentry event arrives
 * as ~170 KiB of gzip and is inflated on the calling thread, in one call, so its buffers are
 * garbage at once instead of living across trips to the thread pool; bodies over 256 KiB still
 * go to the pool. Which one ran shows in the order: an inline inflate settles before the
 * event loop's next turn (setImmediate), a pooled one after it.
 */
async function settlesBeforeNextTurn(body: Uint8Array): Promise<{ inline: boolean; bytes: number }> {
  let turned = false;
  const turn = new Promise<void>((resolve) =>
    setImmediate(() => {
      turned = true;
      resolve();
    }),
  );
  const decoded = await decodeBody(body, ['gzip'], SENTRY_LIMITS.decodedBytes);
  const inline = !turned;
  await turn;
  return { inline, bytes: decoded.byteLength };
}

describe('inflating big Sentry bodies', () => {
  it('inflates a ~1 MiB event (~170 KiB of gzip) on the calling thread, whole', async () => {
    const envelope = sentryLargeEnvelope(1, 'http://public@127.0.0.1:1/1');
    expect(envelope.byteLength).toBeGreaterThan(64 * 1024);
    expect(envelope.byteLength).toBeLessThanOrEqual(256 * 1024);
    const { inline, bytes } = await settlesBeforeNextTurn(envelope);
    expect(inline).toBe(true);
    expect(bytes).toBeGreaterThan(1_000_000);
  });

  it('sends a body over 256 KiB of gzip to the thread pool', async () => {
    const body = gzipSync(randomBytes(400 * 1024)); // incompressible: stays ~400 KiB
    expect(body.byteLength).toBeGreaterThan(256 * 1024);
    const { inline, bytes } = await settlesBeforeNextTurn(body);
    expect(inline).toBe(false);
    expect(bytes).toBe(400 * 1024);
  });

  it('still stops an inline inflate at the decoded limit', async () => {
    const bomb = gzipSync(Buffer.alloc(SENTRY_LIMITS.decodedBytes + 1));
    expect(bomb.byteLength).toBeLessThan(256 * 1024);
    await expect(decodeBody(bomb, ['gzip'], SENTRY_LIMITS.decodedBytes)).rejects.toMatchObject({
      code: 'payload_too_large',
    });
  });
});
