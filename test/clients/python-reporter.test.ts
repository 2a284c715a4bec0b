import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { bugDetail, bugsOf, type Exit, lineOf, repoRoot, runProcess } from './support';

// The shipped reporter, run by a real python3 process exactly as a user's program imports it.
const appFile = join(import.meta.dirname, 'fixtures', 'python-app.py');
const appPath = 'test/clients/fixtures/python-app.py';
const appSource = readFileSync(appFile, 'utf8');
const line = (marker: string) => lineOf(appSource, `# @${marker}`);

let lc: LogCenterHandle;
let closedUrl: string;
let hanging: Server;
let hangingUrl: string;
const sockets = new Set<Socket>();

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};

beforeAll(async () => {
  lc = await startLogCenter();
  // A port that was free a moment ago and now refuses connections.
  const closed = createServer();
  closedUrl = await listen(closed);
  await new Promise((r) => closed.close(r));
  // Accepts connections and never answers.
  hanging = createServer((socket) => {
    sockets.add(socket);
  });
  hangingUrl = await listen(hanging);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((r) => hanging.close(r));
  await lc.stop();
});

/** Runs the fixture program from the repository root with only the reporter on its path. */
function runApp(scenario: string, project: string, env: Record<string, string> = {}): Promise<Exit> {
  return runProcess('python3', [appFile, scenario, project], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PYTHONPATH: join(repoRoot, 'clients', 'python'),
      // No __pycache__ left in clients/python by a test run.
      PYTHONDONTWRITEBYTECODE: '1',
      LOG_CENTER_URL: lc.url,
      ...env,
    },
  });
}

/** The one bug stored for a project, with its detail (stack trace, occurrences). */
async function onlyBug(project: string) {
  const bugs = await bugsOf(lc, project);
  expect(bugs).toHaveLength(1);
  return bugDetail(lc, bugs[0]!.id);
}

describe('the Python reporter in a running program', () => {
  it('reports an uncaught exception, then fails as Python would', async () => {
    const project = uniqueProject('py');
    const exit = await runApp('uncaught', project);

    expect(exit.code).toBe(1);
    expect(exit.stdout).toContain('about to fail');
    expect(exit.stderr).toMatch(/^Traceback \(most recent call last\):/);
    expect(exit.stderr).toContain(`ValueError: invalid literal for int() with base 10: '12,50'`);

    const bug = await onlyBug(project);
    expect(bug).toMatchObject({
      source: 'runtime',
      level: 'ERROR',
      environment: 'production',
      version: '3.1.0',
      occurrence_count: 1,
      error: {
        type: 'ValueError',
        message: `invalid literal for int() with base 10: '12,50'`,
        file_path: appPath,
        line_number: line('uncaught'),
      },
      context: { mechanism: 'excepthook', service: 'billing', python: expect.any(String) },
    });
    expect(bug.error.stack_trace[0]).toBe('Traceback (most recent call last):');
    expect(bug.error.stack_trace).toContainEqual(
      expect.stringContaining(`python-app.py", line ${line('uncaught')}, in parse_amount`),
    );
    expect(bug.error.stack_trace.at(-1)).toBe(`ValueError: invalid literal for int() with base 10: '12,50'`);
  });

  it('reports an exception caught in an except block and keeps the program running', async () => {
    const project = uniqueProject('py');
    const exit = await runApp('caught', project);

    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
    const bug = await onlyBug(project);
    expect(exit.stdout).toContain(`reported: {'message': 'Log reported', 'id': ${bug.id}}`);
    expect(exit.stdout).toContain('still running');
    expect(bug).toMatchObject({
      error: {
        type: 'LookupError',
        message: 'invoice 17 not found',
        file_path: appPath,
        line_number: line('caught'),
      },
      context: { invoice_id: 17, service: 'billing' },
    });
    expect(bug.context).not.toHaveProperty('mechanism');
    expect(bug.error.stack_trace).toContainEqual(
      expect.stringContaining(`python-app.py", line ${line('caught')}, in charge`),
    );
    expect(bug.error.stack_trace.at(-1)).toBe('LookupError: invoice 17 not found');
  });

  it('reports an exception that ends a thread, and the thread name', async () => {
    const project = uniqueProject('py');
    const exit = await runApp('thread', project);

    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('Exception in thread consumer');
    expect(exit.stdout).toContain('main thread finished');
    const bug = await onlyBug(project);
    expect(bug).toMatchObject({
      error: { type: 'RuntimeError', message: 'queue consumer stopped', line_number: line('thread') },
      context: { mechanism: 'threading', thread: 'consumer' },
    });
  });

  it('reports a message that is not an exception at the caller’s line and level', async () => {
    const project = uniqueProject('py');
    const exit = await runApp('report', project);

    expect(exit.code).toBe(0);
    const bug = await onlyBug(project);
    expect(bug).toMatchObject({
      level: 'WARNING',
      error: {
        type: 'StaleCache',
        message: 'price list older than a day',
        file_path: appPath,
        line_number: line('report'),
      },
    });
    expect(bug.error.stack_trace).toContainEqual(
      expect.stringContaining(`line ${line('report')}, in <module>`),
    );
  });

  it('sends the ingest key from LOG_CENTER_KEY for a project that requires one', async () => {
    const project = uniqueProject('py');
    const put = await lc.api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      body: JSON.stringify({ ingest_key: 'py_ingest_key_1' }),
    });
    expect(put.status).toBe(200);

    const refused = await runApp('caught', project);
    expect(refused.stdout).toContain('reported: None');
    expect(await bugsOf(lc, project)).toHaveLength(0);

    const accepted = await runApp('caught', project, { LOG_CENTER_KEY: 'py_ingest_key_1' });
    expect(accepted.stdout).toContain(`'message': 'Log reported'`);
    expect(await bugsOf(lc, project)).toHaveLength(1);
  });
});

describe('the Python reporter when Log Center is down', () => {
  it('leaves an uncaught exception’s output and exit code as they were, with no reporter traceback', async () => {
    const exit = await runApp('uncaught', uniqueProject('py'), { LOG_CENTER_URL: closedUrl });

    expect(exit.code).toBe(1);
    expect(exit.stdout).toContain('about to fail');
    expect(exit.stderr.match(/Traceback/g)).toHaveLength(1);
    expect(exit.stderr.trimEnd().split('\n').at(-1)).toBe(
      `ValueError: invalid literal for int() with base 10: '12,50'`,
    );
    expect(exit.stderr).not.toMatch(/log_center|urllib|URLError|ConnectionRefused|Error in sys.excepthook/);
  });

  it('returns None from capture_exception and keeps the program running', async () => {
    const exit = await runApp('caught', uniqueProject('py'), { LOG_CENTER_URL: closedUrl });

    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
    expect(exit.stdout).toBe('reported: None\nstill running\n');
  });

  it('gives up after 3 s when Log Center accepts the connection and never answers', async () => {
    const exit = await runApp('uncaught', uniqueProject('py'), { LOG_CENTER_URL: hangingUrl });

    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('ValueError: invalid literal');
    expect(exit.stderr).not.toContain('log_center');
    // The 3 s timeout plus python3's start-up, which takes over a second on a busy machine.
    expect(exit.ms).toBeGreaterThanOrEqual(2_900);
    expect(exit.ms).toBeLessThan(9_000);
  });
});
