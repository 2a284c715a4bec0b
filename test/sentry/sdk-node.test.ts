/**
 * The real @sentry/node SDK, in its own process, reporting to a real Log Center over a socket
 * with the DSN the project API hands out. A recording pass-through proxy sits in front (the
 * DSN's host, through PUBLIC_URL) so the test also sees the transport as the SDK drives it:
 * no content type, a chunked body, gzip past 32 KiB, the key in the query string.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineOf, runProcess } from '../clients/support';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { bugOfType, bugsOf, endpointsOf, SdkContext, sentryProject } from './fixtures/log-center';

const serviceFile = join(import.meta.dirname, 'fixtures', 'node-service.mjs');
const serviceSource = readFileSync(serviceFile, 'utf8');
const line = (marker: string) => lineOf(serviceSource, `// @${marker}`);
const sdkVersion: string = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '..', '..', 'node_modules', '@sentry', 'node', 'package.json'),
    'utf8',
  ),
).version;

const INGEST_KEY = 'node_sdk_key_5f3c9a';

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  status?: number;
}

let lc: LogCenterHandle;
let proxy: Server;
let proxyUrl: string;
const seen: Seen[] = [];
const project = uniqueProject('sdk_node');
let dsn: string;

beforeAll(async () => {
  // The proxy must listen first: its address is the PUBLIC_URL Log Center builds DSNs from.
  proxy = createServer((req, res) => {
    const record: Seen = { path: req.url ?? '', headers: req.headers };
    if (req.method === 'POST') seen.push(record);
    const upstream = request(
      new URL(req.url ?? '/', lc.url),
      { method: req.method, headers: req.headers },
      (answer) => {
        record.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  lc = await startLogCenter({ env: { PUBLIC_URL: proxyUrl } });
  dsn = (await sentryProject(lc, project, { ingest_key: INGEST_KEY })).sentry_dsn;
});

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await lc?.stop();
});

/** Runs the instrumented service to its exit, as `node node-service.mjs <scenario>`. */
async function runService(scenario: string) {
  seen.length = 0;
  const exit = await runProcess(process.execPath, [serviceFile, scenario], {
    // Not the parent's environment: the SDK's transport honours http_proxy and no_proxy.
    env: { PATH: process.env.PATH ?? '', SENTRY_DSN: dsn },
  });
  // Every envelope the SDK sent reached Log Center and was accepted, sessions included.
  expect(seen.length).toBeGreaterThan(0);
  await expect.poll(() => seen.every((r) => r.status !== undefined)).toBe(true);
  expect(seen.map((r) => r.status)).toEqual(seen.map(() => 200));
  return exit;
}

describe('@sentry/node in a child process', () => {
  it('is given a DSN on PUBLIC_URL with the ingest key and the project number', async () => {
    const { sentry_id } = await sentryProject(lc, project);
    expect(dsn).toBe(`${proxyUrl.replace('://', `://${INGEST_KEY}@`)}/${sentry_id}`);
  });

  it('stores a captured exception and a captured message with what the SDK knows', async () => {
    const exit = await runService('capture');
    expect(exit.code, exit.stderr).toBe(0);
    expect(JSON.parse(exit.stdout.trim())).toEqual({ flushed: true });

    // The transport as @sentry/node 10 drives it (node-core transports/http.ts).
    const { envelope, sentryId } = endpointsOf(dsn);
    for (const request of seen) {
      const url = new URL(request.path, proxyUrl);
      expect(`${proxyUrl}${url.pathname}`).toBe(envelope);
      expect(url.pathname).toBe(`/api/${sentryId}/envelope/`);
      expect(url.searchParams.get('sentry_key')).toBe(INGEST_KEY);
      expect(url.searchParams.get('sentry_version')).toBe('7');
      expect(request.headers['content-type']).toBeUndefined();
      expect(request.headers['content-length']).toBeUndefined();
      expect(request.headers['transfer-encoding']).toBe('chunked');
      expect(request.headers['content-encoding']).toBeUndefined();
    }
    // Two events, plus session updates (ProcessSession) in envelopes of their own.
    expect(seen.length).toBeGreaterThan(2);

    const bugs = await bugsOf(lc, project);
    expect(bugs.map((b) => b.error.type).sort()).toEqual(['Message', 'TypeError']);

    const bug = await bugOfType(lc, project, 'TypeError');
    expect(bug).toMatchObject({
      source: 'runtime',
      level: 'ERROR',
      environment: 'e2e',
      version: 'checkout@4e1c0ffee123',
      commit_hash: '4e1c0ffee123',
      status: 'NEW',
      occurrence_count: 1,
      error: {
        type: 'TypeError',
        message: 'card declined for order 7',
        file_path: serviceFile,
        line_number: line('charge'),
      },
    });
    const at = (fn: string, marker?: string) =>
      expect.stringMatching(
        new RegExp(`^  at ${fn} \\(${serviceFile}:${marker ? line(marker) : '\\d+'}:\\d+\\)$`),
      );
    expect(bug.error.stack_trace.slice(0, 3)).toEqual([
      'TypeError: card declined for order 7',
      at('chargeCard', 'charge'),
      at('checkout'),
    ]);
    // Node's own frames (node:internal/...) are kept after the app's, as the SDK sent them.
    expect(bug.error.stack_trace.at(-1)).toMatch(/^ {2}at .+ \(node:internal\//);

    const context = SdkContext.parse(bug.context);
    expect(context).toMatchObject({
      platform: 'node',
      sdk: { name: 'sentry.javascript.node', version: sdkVersion },
    });
    expect(bug.context).toMatchObject({
      server_name: 'checkout-1',
      tags: { flow: 'checkout' },
      user: { id: 'u_42' },
      contexts: { runtime: { name: 'node', version: process.version } },
    });

    const message = await bugOfType(lc, project, 'Message');
    expect(message).toMatchObject({
      level: 'WARNING',
      environment: 'e2e',
      version: 'checkout@4e1c0ffee123',
      // @sentry/node 10 sends captureMessage without a stack (11 adds a synthetic exception
      // with the caller's frames, which would give a file and line here).
      error: { message: 'payment provider answered slowly', file_path: null, line_number: null },
    });
    expect(message.error.stack_trace).toEqual(['Message: payment provider answered slowly']);
    expect(SdkContext.parse(message.context).platform).toBe('node');
  });

  it('counts the same errors from a second process on the same bugs', async () => {
    // Within one process the SDK's Dedupe integration drops a repeat; a second process does not.
    const exit = await runService('capture');
    expect(exit.code, exit.stderr).toBe(0);
    const bugs = await bugsOf(lc, project);
    expect(bugs).toHaveLength(2);
    expect(bugs.map((b) => [b.error.type, b.occurrence_count]).sort()).toEqual([
      ['Message', 2],
      ['TypeError', 2],
    ]);
    const bug = await bugOfType(lc, project, 'TypeError');
    expect(bug.occurrences).toHaveLength(2);
    const eventIds = bug.occurrences.map((o) => SdkContext.parse(o.context).event_id);
    expect(new Set(eventIds).size).toBe(2);
  });

  it('stores an uncaught exception as fatal before the process exits', async () => {
    const exit = await runService('uncaught');
    // OnUncaughtException reports, flushes, then exits with Node's code for an uncaught error.
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('RangeError: receipt total is negative');

    const bug = await bugOfType(lc, project, 'RangeError');
    expect(bug).toMatchObject({
      level: 'CRITICAL',
      error: { message: 'receipt total is negative', file_path: serviceFile, line_number: line('uncaught') },
    });
    expect(bug.error.stack_trace[1]).toMatch(
      new RegExp(
        `^ {2}at Timeout\\.printReceipt \\[as _onTimeout\\] \\(${serviceFile}:${line('uncaught')}:\\d+\\)$`,
      ),
    );
  });

  it('stores an event the SDK sent gzip-compressed and chunked', async () => {
    const exit = await runService('large');
    expect(exit.code, exit.stderr).toBe(0);
    const gzipped = seen.filter((r) => r.headers['content-encoding'] === 'gzip');
    expect(gzipped).toHaveLength(1);
    expect(gzipped[0]!.headers['transfer-encoding']).toBe('chunked');
    expect(gzipped[0]!.status).toBe(200);

    const large = (await bugsOf(lc, project)).find(
      (b) => b.error.message === 'cart of 800 items is too large',
    );
    expect(large).toMatchObject({ level: 'ERROR', error: { file_path: serviceFile } });
  });
});
