import { request } from 'node:http';
import { connect } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { normaliseReport } from '../../functions/services/report';
import { normaliseSentryEvent, parseEventJson } from '../../functions/services/sentry/event';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';

// docs/api.md, limits on the report endpoint: linear text work, compressed bodies, a 413 the client can
// read, quiet logs for aborted uploads, and context keys that are data, not prototypes.
let lc: LogCenterHandle;
let wire: LogCenterHandle;
beforeAll(async () => {
  [lc, wire] = await Promise.all([startLogCenterApp(), startLogCenter()]);
});
afterAll(() => Promise.all([lc.stop(), wire.stop()]));

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(body.error).toMatchObject({ code, message: expect.any(String), request_id: expect.any(String) });
  return body.error as { code: string; message: string };
}

async function bugsOf(project: string, on = lc) {
  const res = await on.api(`/api/v1/bugs?project_id=${project}`);
  return (await res.json()) as { total: number; items: { id: number }[] };
}

describe('compressed report bodies', () => {
  const post = (body: Uint8Array, headers: Record<string, string>) =>
    lc.fetch('/api/v1/logs/report', { method: 'POST', body: new Uint8Array(body), headers });

  it.each([
    ['gzip', 'gzip', (b: Buffer) => gzipSync(b)],
    ['x-gzip', 'x-gzip', (b: Buffer) => gzipSync(b)],
    ['deflate', 'deflate', (b: Buffer) => deflateSync(b)],
    ['deflate (raw, no zlib header)', 'deflate', (b: Buffer) => deflateRawSync(b)],
    ['br', 'br', (b: Buffer) => brotliCompressSync(b)],
  ])('accepts a report sent with Content-Encoding %s', async (_name, encoding, compress) => {
    const project = uniqueProject('enc');
    const res = await post(compress(Buffer.from(JSON.stringify(runtimeReport(project)))), {
      'Content-Encoding': encoding,
      'Content-Type': 'application/json',
    });
    expect(res.status).toBe(200);
    expect((await res.json()).message).toBe('Log reported');
    expect((await bugsOf(project)).total).toBe(1);
  });

  it('answers 415 unsupported_encoding for any other encoding', async () => {
    const error = await expectError(
      await post(Buffer.from(JSON.stringify(runtimeReport(uniqueProject()))), {
        'Content-Encoding': 'compress',
      }),
      415,
      'unsupported_encoding',
    );
    expect(error.message).toContain('compress');
  });

  it('accepts a gzip report sent chunked over a real socket', async () => {
    const project = uniqueProject('enc_chunked');
    const gz = gzipSync(JSON.stringify(runtimeReport(project, { context: { pad: 'q'.repeat(100_000) } })));
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${wire.url}/api/v1/logs/report`,
        { method: 'POST', headers: { 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      // Two writes and no length: Transfer-Encoding: chunked.
      req.write(gz.subarray(0, 10));
      req.end(gz.subarray(10));
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).message).toBe('Log reported');
    expect((await bugsOf(project, wire)).total).toBe(1);
  });

  it('answers 413 when the body inflates past 256 KiB (a zip bomb) and stores nothing', async () => {
    const project = uniqueProject('bomb');
    const inflated = JSON.stringify(runtimeReport(project, { context: { pad: 'z'.repeat(300 * 1024) } }));
    const body = gzipSync(inflated);
    expect(body.byteLength).toBeLessThan(4 * 1024);
    const error = await expectError(
      await post(body, { 'Content-Encoding': 'gzip' }),
      413,
      'payload_too_large',
    );
    expect(error.message).toContain('256 KiB');
    expect((await bugsOf(project)).total).toBe(0);
  });

  it('answers 400 invalid_encoding for a body that is not the stream it claims', async () => {
    await expectError(
      await post(Buffer.from('{"not":"gzip"}'), { 'Content-Encoding': 'gzip' }),
      400,
      'invalid_encoding',
    );
  });

  it('never echoes binary bytes in an invalid_json message', async () => {
    // A gzip body sent without its Content-Encoding: the bytes reach the JSON parser.
    const gz = gzipSync(JSON.stringify(runtimeReport(uniqueProject())));
    for (const body of [
      gz,
      Buffer.from('\u0001\u0002\u0003{\u001b[31m'),
      Buffer.from(`{"a": ${'\u0007'.repeat(500)}`),
    ]) {
      const error = await expectError(
        await post(body, { 'Content-Type': 'application/json' }),
        400,
        'invalid_json',
      );
      expect(error.message).toMatch(/^[\x20-\x7e]*$/);
      expect(error.message.length).toBeLessThan(300);
    }
  });
});

/**
 * A client that writes its whole body before it reads the answer (Python's http.client and
 * requests, `sendall` then `recv`): over a raw socket, since node:http reads while it writes
 * and so already copes with an early answer on loopback.
 */
function sendThenRead(path: string, body: Buffer, mode: 'declared' | 'chunked') {
  return new Promise<{ status: number; text: string; errors: string[] }>((resolve) => {
    const { hostname, port, host } = new URL(wire.url);
    const errors: string[] = [];
    const received: Buffer[] = [];
    const socket = connect(Number(port), hostname);
    socket.pause();
    socket.on('error', (e) => errors.push((e as NodeJS.ErrnoException).code ?? String(e)));
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('close', () => {
      const raw = Buffer.concat(received).toString('utf8');
      const status = Number(raw.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
      resolve({ status, text: raw.slice(raw.indexOf('\r\n\r\n') + 4), errors });
    });
    const write = (data: string | Buffer) => new Promise<void>((done) => socket.write(data, () => done()));
    void (async () => {
      const framing =
        mode === 'declared' ? `Content-Length: ${body.byteLength}` : 'Transfer-Encoding: chunked';
      await write(
        `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`,
      );
      for (let i = 0; i < body.byteLength && !errors.length; i += 16 * 1024) {
        const piece = body.subarray(i, i + 16 * 1024);
        if (mode === 'declared') await write(piece);
        else
          await write(
            Buffer.concat([Buffer.from(`${piece.byteLength.toString(16)}\r\n`), piece, Buffer.from('\r\n')]),
          );
        // An uplink of ~1 MB/s: the upload outlasts @hono/node-server's own 500 ms drain.
        await new Promise((r) => setTimeout(r, 15));
      }
      if (mode === 'chunked' && !errors.length) await write('0\r\n\r\n');
      socket.resume(); // only now read the answer
    })();
  });
}

describe('413 over a real socket', () => {
  it.each(['declared', 'chunked'] as const)(
    'reaches a client that writes a %s body over 256 KiB, not a connection reset',
    async (mode) => {
      const project = uniqueProject('big');
      const body = Buffer.from(
        JSON.stringify(runtimeReport(project, { context: { pad: 'p'.repeat(700 * 1024) } })),
      );
      const answer = await sendThenRead('/api/v1/logs/report', body, mode);
      expect(answer.errors).toEqual([]);
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text).error).toMatchObject({
        code: 'payload_too_large',
        request_id: expect.any(String),
      });
      expect((await bugsOf(project, wire)).total).toBe(0);
    },
  );
});

describe('aborted uploads', () => {
  let lines: { level: string; text: string }[] = [];
  beforeAll(() => {
    for (const level of ['log', 'info', 'warn', 'error'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push({ level, text: args.map(String).join(' ') });
      });
    }
  });
  afterEach(() => {
    lines = [];
  });
  afterAll(() => vi.restoreAllMocks());

  it.each(['declared', 'chunked'] as const)(
    'logs a client that aborts a %s upload at info, not error',
    async (mode) => {
      const headers: Record<string, string | number> = { 'Content-Type': 'application/json' };
      if (mode === 'declared') headers['Content-Length'] = 100_000;
      const req = request(`${wire.url}/api/v1/logs/report`, { method: 'POST', headers });
      req.on('error', () => {});
      req.write(`{"project_id":"${uniqueProject('abort')}","environment":"${'e'.repeat(20_000)}`);
      await new Promise((r) => setTimeout(r, 150));
      req.destroy();
      const abortLine = () => lines.find((l) => /abort/i.test(l.text));
      for (let waited = 0; waited < 3000 && !abortLine(); waited += 50) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 200)); // room for a stray error line
      expect(lines.filter((l) => l.level === 'error' || l.text.includes('"level":"error"'))).toEqual([]);
      const line = abortLine();
      expect(line).toBeDefined();
      expect(JSON.parse(line!.text)).toMatchObject({ level: 'info', path: '/api/v1/logs/report' });
    },
  );
});

describe('context keys that name prototype members', () => {
  const hostile = `{"__proto__":{"polluted":"yes","password":"hunter2"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"nested":{"__proto__":{"deep":1}}}`;

  /** Own keys and values as JSON text, so `__proto__` is compared as the data it is. */
  const ownJson = (value: unknown) => JSON.stringify(value);
  const expectedJson = `{"__proto__":{"polluted":"yes","password":"[Filtered]"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"nested":{"__proto__":{"deep":1}}}`;

  function expectNothingPolluted() {
    expect({} as Record<string, unknown>).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  }

  it('stores them as data and shows them verbatim through the API', async () => {
    const project = uniqueProject('proto');
    const report = JSON.stringify(runtimeReport(project, { context: { placeholder: true } })).replace(
      '{"placeholder":true}',
      hostile,
    );
    const res = await lc.report(report);
    expect(res.status).toBe(200);
    const { id } = await res.json();
    const detail = JSON.parse(await (await lc.api(`/api/v1/bugs/${id}`)).text());
    const { context } = detail;
    expect(Object.hasOwn(context, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(context)).toBe(Object.prototype);
    expect(ownJson(context)).toBe(expectedJson);
    expect(JSON.parse(ownJson(context))).toEqual(JSON.parse(expectedJson));
    expectNothingPolluted();
  });

  it('keeps them through context truncation (over 32 KiB)', () => {
    const body = JSON.parse(
      JSON.stringify(runtimeReport('proto_trunc', { context: { placeholder: true } })).replace(
        '{"placeholder":true}',
        `${hostile.slice(0, -1)},"big":"${'b'.repeat(40 * 1024)}"}`,
      ),
    );
    const outcome = normaliseReport(body, '2026-01-01T00:00:00.000Z');
    if (!outcome.ok) throw new Error('report did not validate');
    const context = JSON.parse(outcome.report.contextJson);
    expect(context._truncated).toMatch(/^context was \d+ bytes/);
    expect(Object.hasOwn(context, '__proto__')).toBe(true);
    expect(ownJson(context)).toContain(`"__proto__":{"polluted":"yes","password":"[Filtered]"}`);
    expect(context.big).toMatch(/^\[truncated: \d+ bytes\]$/);
    expectNothingPolluted();
  });

  it('keeps them in a Sentry event context', () => {
    const event = parseEventJson(
      new TextEncoder().encode(
        `{"event_id":"${'a'.repeat(32)}","message":"hi","extra":${hostile},"user":{"__proto__":{"id":"u1"}}}`,
      ),
    );
    const { report } = normaliseSentryEvent(event, {
      projectId: 'sentry_proto',
      receivedAt: '2026-01-01T00:00:00.000Z',
    });
    const context = JSON.parse(report.contextJson);
    const extra = context.extra as Record<string, unknown>;
    expect(Object.hasOwn(extra, '__proto__')).toBe(true);
    expect(ownJson(extra)).toBe(expectedJson);
    expect(ownJson(context.user)).toBe('{"__proto__":{"id":"u1"}}');
    expectNothingPolluted();
  });
});
