import { AppError } from './errors';

/**
 * Reads a request body (chunked or not) without ever holding more than `maxBytes` of it:
 * past that `tooLarge()` is thrown. For bodies whose length is not declared up front; a
 * declared length is checked before reading.
 *
 * With `drainBytes`, a body over the limit is read on and dropped for up to that many more
 * bytes before the error is thrown: a client still writing its body when the server answers
 * and closes gets a connection reset instead of the answer. Past that the stream is
 * cancelled, as it is without `drainBytes`.
 */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLarge: () => Error,
  drainBytes = 0,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      const ended = drainBytes > 0 && (await dropUpTo(reader, drainBytes - (total - maxBytes)));
      if (!ended) await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * Reads and drops up to `maxBytes` of a body the request is refused for (see `readLimited`).
 * Whether the body ended within them; a body that fails to arrive counts as not ended.
 */
export async function discardBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<boolean> {
  if (!body || body.locked) return body === null;
  const reader = body.getReader();
  const ended = await dropUpTo(reader, maxBytes);
  if (!ended) await reader.cancel().catch(() => {});
  return ended;
}

async function dropUpTo(reader: ReadableStreamDefaultReader<Uint8Array>, maxBytes: number): Promise<boolean> {
  let dropped = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      dropped += value.byteLength;
      if (dropped > maxBytes) return false;
    }
  } catch {
    return false;
  }
}

/**
 * Runs a read of the request body. A client that aborts its upload is not a server fault:
 * it is logged at info (nobody receives the answer anyway) and answered 400, never 500.
 */
export async function readingBody<T>(
  read: () => Promise<T>,
  where: { request_id?: string; path: string },
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof AppError) throw error;
    console.info(
      JSON.stringify({ level: 'info', msg: 'upload aborted by the client', ...where, error: String(error) }),
    );
    throw new AppError('bad_request', 'The body ended before it was complete');
  }
}
