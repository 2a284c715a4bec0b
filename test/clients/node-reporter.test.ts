import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureException as captureWithoutInit, init } from '../../clients/node/index';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { bugsOf, compileClient, type Exit, lineOf, repoRoot, runProcess, waitFor } from './support';

const serviceFile = join(import.meta.dirname, 'fixtures', 'node-service.mjs');
const serviceSource = readFileSync(serviceFile, 'utf8');
const line = (marker: string) => lineOf(serviceSource, `// @${marker}`);

let lc: LogCenterHandle;
let buildDir: string;
let reporterModule: string;
let hanging: Server;
let hangingUrl: string;
const sockets = new Set<Socket>();

/** A reporter for one test: no process handlers, environment `test`, overridable. */
const testReporter = (options: Partial<Parameters<typeof init>[0]> = {}) =>
  init({ url: lc.url, projectId: 'svc', environment: 'test', handleProcessErrors: false, ...options });

beforeAll(async () => {
  lc = await startLogCenter();
  buildDir = mkdtempSync(join(tmpdir(), 'node-reporter-'));
  reporterModule = pathToFileURL(compileClient('clients/node/index.ts', buildDir, 'log-center.mjs')).href;
  // Accepts connections and never answers.
  hanging = createServer((socket) => {
    sockets.add(socket);
  });
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((r) => hanging.close(r));
  await lc.stop();
  rmSync(buildDir, { recursive: true, force: true });
});

/** An error as a service in /srv/billing would throw it, having passed through a driver. */
function driverError(): Error {
  const error = new Error('relation "invoices" does not exist');
  error.name = 'DatabaseError';
  error.stack = [
    'DatabaseError: relation "invoices" does not exist',
    '    at Parser.parseErrorMessage (/srv/billing/node_modules/pg-protocol/dist/parser.js:287:98)',
    '    at async InvoiceRepo.find (/srv/billing/src/invoices/repo.js:31:17)',
    '    at async handler (file:///srv/billing/src/routes/invoices.js:12:5)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
  ].join('\n');
  error.cause = new Error('connection reset');
  return error;
}

describe('captureException', () => {
  it('reports the first frame of the application, relative to its root, with the cause', async () => {
    const project = uniqueProject('svc');
    const reporter = init({
      url: lc.url,
      projectId: project,
      environment: 'production',
      release: '2.0.1',
      commitHash: 'ABCDEF1234',
      root: '/srv/billing',
      handleProcessErrors: false,
      context: () => ({ service: 'billing' }),
    });

    const answer = await reporter.captureException(driverError(), { invoice_id: 17 });
    expect(answer).toEqual({ message: 'Log reported', id: expect.any(Number) });
    const again = await reporter.captureException(driverError());
    expect(again).toEqual({ message: 'Log deduplicated', id: answer!.id, status: 'NEW' });

    const [bug] = await bugsOf(lc, project);
    expect(bug).toMatchObject({
      source: 'runtime',
      level: 'ERROR',
      environment: 'production',
      version: '2.0.1',
      commit_hash: 'abcdef1234',
      occurrence_count: 2,
      error: {
        type: 'DatabaseError',
        message: 'relation "invoices" does not exist',
        file_path: 'src/invoices/repo.js',
        line_number: 31,
      },
      context: { service: 'billing', invoice_id: 17, pid: process.pid, node: process.version },
    });
    expect(bug!.error.stack_trace[0]).toBe('DatabaseError: relation "invoices" does not exist');
    expect(bug!.error.stack_trace).toContainEqual(
      expect.stringMatching(/^Caused by: Error: connection reset/),
    );
    reporter.close();
  });

  it('reports a thrown value that is not an Error the way the Python reporter does', async () => {
    const project = uniqueProject('svc');
    const reporter = testReporter({ projectId: project });
    expect(await reporter.captureException('quota exceeded')).toMatchObject({ message: 'Log reported' });
    const [bug] = await bugsOf(lc, project);
    expect(bug!.error).toMatchObject({
      type: 'Error',
      message: 'quota exceeded',
      file_path: 'unknown',
      line_number: 0,
      stack_trace: ['quota exceeded'],
    });
    reporter.close();
  });

  it('still reports when the context cannot be serialised, without the context', async () => {
    const project = uniqueProject('svc');
    const reporter = testReporter({ projectId: project });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(await reporter.captureException(driverError(), { request: cyclic })).toMatchObject({
      message: 'Log reported',
    });
    const [bug] = await bugsOf(lc, project);
    expect(bug!.context).toEqual({ context_dropped: 'not serialisable' });
    reporter.close();
  });

  it('sends the ingest key of a project that requires one', async () => {
    const project = uniqueProject('svc');
    await lc.api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      body: JSON.stringify({ ingest_key: 'svc_ingest_key' }),
    });
    const refused = testReporter({ projectId: project });
    expect(await refused.captureException(driverError())).toBeUndefined();
    const accepted = testReporter({ projectId: project, ingestKey: 'svc_ingest_key' });
    expect(await accepted.captureException(driverError())).toMatchObject({ message: 'Log reported' });
    accepted.close();
  });

  it('resolves undefined without throwing when Log Center is unreachable', async () => {
    const refused = testReporter({ url: 'http://127.0.0.1:9' });
    await expect(refused.captureException(new Error('x'))).resolves.toBeUndefined();

    const stuck = testReporter({ url: hangingUrl });
    const started = Date.now();
    await expect(stuck.captureException(new Error('x'))).resolves.toBeUndefined();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(2_900);
    expect(waited).toBeLessThan(4_500);
    stuck.close();
  });

  it('does nothing before init', async () => {
    await expect(captureWithoutInit(new Error('early'))).resolves.toBeUndefined();
  });
});

function runService(scenario: string, env: Record<string, string>): Promise<Exit> {
  return runProcess(process.execPath, [serviceFile, scenario], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', REPORTER_MODULE: reporterModule, ...env },
  });
}

describe('process handlers in a running service', () => {
  it('reports an uncaught exception, then exits 1 as Node would', async () => {
    const project = uniqueProject('svc');
    const exit = await runService('uncaught', { LOG_CENTER_URL: lc.url, PROJECT_ID: project });

    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('TypeError: amount must be a number');
    const [bug] = await bugsOf(lc, project);
    expect(bug).toMatchObject({
      version: '2.0.1',
      error: {
        type: 'TypeError',
        message: 'amount must be a number',
        file_path: 'test/clients/fixtures/node-service.mjs',
        line_number: line('uncaught'),
      },
      context: { mechanism: 'uncaughtException', service: 'billing' },
    });
  });

  it('reports an unhandled rejection, then exits 1 as Node would', async () => {
    const project = uniqueProject('svc');
    const exit = await runService('rejection', { LOG_CENTER_URL: lc.url, PROJECT_ID: project });

    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('invoice 17 not found');
    const [bug] = await bugsOf(lc, project);
    expect(bug).toMatchObject({
      error: {
        type: 'Error',
        file_path: 'test/clients/fixtures/node-service.mjs',
        line_number: line('rejection'),
      },
      context: { mechanism: 'unhandledRejection' },
    });
  });

  it('leaves the decision to an application that has its own uncaughtException handler', async () => {
    const project = uniqueProject('svc');
    const exit = await runService('own-handler', { LOG_CENTER_URL: lc.url, PROJECT_ID: project });

    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('application handler ran');
    const bug = await waitFor(async () => (await bugsOf(lc, project))[0]);
    expect(bug.error).toMatchObject({
      message: 'handled by the application',
      line_number: line('own-handler'),
    });
  });

  it('still exits within the 3 s timeout when Log Center never answers', async () => {
    const exit = await runService('uncaught', { LOG_CENTER_URL: hangingUrl, PROJECT_ID: 'svc' });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('amount must be a number');
    expect(exit.ms).toBeLessThan(5_000);
  });
});
