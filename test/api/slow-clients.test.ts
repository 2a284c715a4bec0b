import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, type RunningServer, startServer } from '../../functions/server';
import { testServerOptions } from '../helpers/server';

/** The limits under test, short so the suite runs in seconds; the defaults are docs/api.md, limits's. */
const LIMIT_MS = 1_000;
/** Node checks limits on an interval; what a client may wait past a limit before it is cut off. */
const SLACK_MS = 1_000;

let server: RunningServer;
let dataDir: string;
let port: number;

beforeAll(async () => {
  const options = testServerOptions({});
  dataDir = options.dataDir;
  server = await startServer({
    ...options,
    port: 0,
    sweepIntervalMs: 0,
    alertFlushIntervalMs: 0,
    timeouts: { headersMs: LIMIT_MS, requestMs: LIMIT_MS, keepAliveMs: LIMIT_MS },
  });
  port = server.port;
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A raw connection: what it has read, and when the server closed it (ms after opening). */
interface RawClient {
  socket: Socket;
  received(): string;
  closed: Promise<number>;
}

async function rawClient(): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((ready, fail) => socket.once('connect', ready).once('error', fail));
  const opened = Date.now();
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    data += chunk;
  });
  // A reset after the answer still counts as the server closing the connection.
  socket.on('error', () => undefined);
  const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - opened)));
  return { socket, received: () => data, closed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('slow clients (docs/api.md, limits)', () => {
  it('keeps the limits the spec sets by default', () => {
    expect(DEFAULT_TIMEOUTS).toEqual({ headersMs: 30_000, requestMs: 30_000, keepAliveMs: 5_000 });
  });

  it('answers a stalled body with a 408 error envelope and closes, while serving others', async () => {
    const stalled = await rawClient();
    stalled.socket.write(
      'POST /api/v1/logs/report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000\r\n\r\n{"project_id":"slow',
    );

    // Served as usual while the stalled request holds its socket.
    await sleep(LIMIT_MS / 2);
    const started = Date.now();
    const healthy = await fetch(`${server.url}/api/health`);
    expect(healthy.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(LIMIT_MS / 2);

    const closedAfter = await Promise.race([
      stalled.closed,
      sleep(LIMIT_MS + SLACK_MS + 1_000).then(() => -1),
    ]);
    expect(closedAfter, 'the stalled socket was still open').toBeGreaterThan(0);
    expect(closedAfter).toBeLessThanOrEqual(LIMIT_MS + SLACK_MS);
    const answer = stalled.received();
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/\r\ncontent-type: application\/json\r\n/i);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
      error: { code: string; message: string; request_id: string };
    };
    expect(body.error.code).toBe('request_timeout');
    expect(body.error.request_id).toEqual(expect.any(String));
  });

  it('cuts off a client that trickles its headers', async () => {
    const trickler = await rawClient();
    trickler.socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    // A byte every 100 ms keeps the socket busy but never finishes the headers.
    const drip = setInterval(() => trickler.socket.writable && trickler.socket.write('a'), 100);
    try {
      const closedAfter = await Promise.race([
        trickler.closed,
        sleep(LIMIT_MS + SLACK_MS + 1_000).then(() => -1),
      ]);
      expect(closedAfter, 'the trickling socket was still open').toBeGreaterThan(0);
      expect(closedAfter).toBeLessThanOrEqual(LIMIT_MS + SLACK_MS);
      expect(trickler.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
    }
  });

  it('closes an idle keep-alive connection after the keep-alive limit', async () => {
    const idle = await rawClient();
    idle.socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    await expect.poll(() => idle.received(), { timeout: 2_000 }).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\n/);
    const answeredAt = await Promise.race([idle.closed.then(() => -1), sleep(0).then(() => Date.now())]);
    expect(answeredAt, 'closed before the keep-alive limit').toBeGreaterThan(0);

    const closedAfter = await Promise.race([idle.closed, sleep(LIMIT_MS + SLACK_MS + 1_000).then(() => -1)]);
    expect(closedAfter, 'the idle socket was still open').toBeGreaterThan(0);
    expect(closedAfter).toBeLessThanOrEqual(LIMIT_MS + SLACK_MS + 500);
    // It was kept for the limit, not closed as soon as the answer went out.
    expect(closedAfter).toBeGreaterThanOrEqual(LIMIT_MS - 100);
  });
});
