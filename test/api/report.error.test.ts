import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogCenterApp } from '../helpers/app';
import { cicdReport, runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';

// Route cases go to Log Center in process; `wire` is a real server for the cases about what
// crosses the socket: a body sent by curl, its declared length, a chunked body.
let lc: LogCenterHandle;
let wire: LogCenterHandle;
beforeAll(async () => {
  [lc, wire] = await Promise.all([startLogCenterApp(), startLogCenter()]);
});
afterAll(() => Promise.all([lc.stop(), wire.stop()]));

async function bugCount(project: string, on = lc): Promise<number> {
  const res = await on.api(`/api/v1/bugs?project_id=${project}`);
  return (await res.json()).total;
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(body.error).toMatchObject({ code, message: expect.any(String), request_id: expect.any(String) });
  expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
  return body.error;
}

describe('bodies that are not JSON', () => {
  it.each([
    ['garbage', 'not json at all'],
    ['truncated object', '{"project_id": "x", "environment": '],
    ['empty body', ''],
    ['single quotes', "{'project_id': 'x'}"],
  ])('answers 400 invalid_json for %s', async (_name, body) => {
    await expectError(await lc.report(body), 400, 'invalid_json');
  });
});

describe('shell-built CI payloads', () => {
  it('repairs the raw control characters and stray backslashes the guide step produces', async () => {
    const project = uniqueProject();
    const dir = mkdtempSync(join(tmpdir(), 'ci-log-'));
    const log = join(dir, 'build.log');
    // A build log with ANSI colours, tabs and Windows paths, as docker/npm print them.
    writeFileSync(
      log,
      [
        '\u001b[36m#5 [build 2/4]\u001b[0m RUN npm ci',
        'error\tC:\\Users\\runner\\work\\app\\src\\index.ts(12,5): TS2304',
        'npm ERR! path D:\\a\\app\\lib\\sharp \\\\server\\share \\t \\\\',
        'ERROR: failed to solve: process "/bin/sh -c npm ci" did not complete',
      ].join('\n'),
    );
    // The exact escaping of the guide's "Report failure to Log Center" step.
    const script = `
      BUILD_LOG=$(tail -50 "$LOG" | sed 's/"/\\\\"/g' | sed ':a;N;$!ba;s/\\n/\\\\n/g')
      curl -s -X POST "$URL/api/v1/logs/report" -H "Content-Type: application/json" -d "{
        \\"project_id\\": \\"$PROJECT\\",
        \\"environment\\": \\"main\\",
        \\"level\\": \\"ERROR\\",
        \\"source\\": \\"cicd\\",
        \\"error\\": {
          \\"type\\": \\"DockerBuildError\\",
          \\"message\\": \\"[build] Build and Deploy failed on branch main\\",
          \\"stack_trace\\": [\\"\${BUILD_LOG}\\"]
        },
        \\"context\\": { \\"job_name\\": \\"build-and-deploy\\", \\"step_name\\": \\"build\\" }
      }"`;
    // Asynchronous on purpose: the server runs in this process and must keep answering.
    const { stdout: out } = await promisify(execFile)('bash', ['-c', script], {
      env: { ...process.env, LOG: log, URL: wire.url, PROJECT: project },
      encoding: 'utf8',
    });
    const answer = JSON.parse(out);
    expect(answer.message).toBe('Log reported');
    const stored = await (await wire.api(`/api/v1/bugs/${answer.id}`)).json();
    expect(stored.error.stack_trace).toEqual([
      '#5 [build 2/4] RUN npm ci',
      'error\tC:\\Users\\runner\\work\\app\\src\\index.ts(12,5): TS2304',
      'npm ERR! path D:\\a\\app\\lib\\sharp \\\\server\\share \\t \\\\',
      'ERROR: failed to solve: process "/bin/sh -c npm ci" did not complete',
    ]);
  });

  it('does not "repair" text that is broken for other reasons', async () => {
    await expectError(await lc.report('{"project_id": "x"\t"level": "ERROR"}'), 400, 'invalid_json');
  });
});

describe('schema violations', () => {
  it('lists one entry per bad field and stores nothing', async () => {
    const project = uniqueProject();
    const body = {
      project_id: project,
      environment: 'e'.repeat(65),
      level: 'LOUD',
      source: 'mainframe',
      timestamp: 'yesterday',
      error: { type: 42, message: null, line_number: -1 },
      context: 'not an object',
    };
    const error = await expectError(await lc.report(body), 422, 'validation_failed');
    const paths = error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(
      [
        'context',
        'environment',
        'error.line_number',
        'error.message',
        'error.type',
        'level',
        'source',
        'timestamp',
      ].sort(),
    );
    expect(await bugCount(project)).toBe(0);
  });

  it('requires file, line and stack for runtime reports only', async () => {
    const project = uniqueProject();
    const body = runtimeReport(project, { error: { type: 'TypeError', message: 'x' } });
    const error = await expectError(await lc.report(body), 422, 'validation_failed');
    expect(error.details.map((d: { path: string }) => d.path)).toEqual([
      'error.file_path',
      'error.line_number',
      'error.stack_trace',
    ]);
    const cicd = cicdReport(project, { error: { type: 'LintError', message: 'x' } });
    expect((await lc.report(cicd)).status).toBe(200);
  });

  it.each([
    ['a bad project id', { project_id: '../etc/passwd' }],
    ['a project id over 64 characters', { project_id: 'p'.repeat(65) }],
    ['an array body', null],
  ])('rejects %s', async (_name, overrides) => {
    const body = overrides ? runtimeReport('x', overrides) : [runtimeReport('x')];
    await expectError(await lc.report(body), 422, 'validation_failed');
  });

  it('rejects a missing body object entirely', async () => {
    const error = await expectError(await lc.report('null'), 422, 'validation_failed');
    expect(error.details[0].path).toBe('(body)');
  });
});

describe('size limits', () => {
  it('answers 413 for a body over 256 KiB and stores nothing', async () => {
    const project = uniqueProject();
    const body = runtimeReport(project, { context: { blob: 'z'.repeat(300 * 1024) } });
    await expectError(await wire.report(body), 413, 'payload_too_large');
    expect(await bugCount(project, wire)).toBe(0);
  });

  it('accepts a body just under the limit', async () => {
    const project = uniqueProject();
    const body = runtimeReport(project, { context: { blob: 'z'.repeat(250 * 1024) } });
    expect((await wire.report(body)).status).toBe(200);
  });
});

describe('bodies of unknown length (chunked)', () => {
  const sendChunked = (body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${wire.url}/api/v1/logs/report`,
        { method: 'POST', headers: { 'Content-Type': 'text/plain' } },
        (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      // Written in pieces, so Node sends Transfer-Encoding: chunked and no Content-Length.
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.slice(i, i + 16 * 1024));
      req.end();
    });

  it('accepts a chunked report under the limit', async () => {
    const project = uniqueProject();
    const answer = await sendChunked(
      JSON.stringify(runtimeReport(project, { context: { pad: 'p'.repeat(40_000) } })),
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).message).toBe('Log reported');
  });

  it('stops reading a chunked body at 256 KiB and stores nothing', async () => {
    const project = uniqueProject();
    const answer = await sendChunked(
      JSON.stringify(runtimeReport(project, { context: { pad: 'p'.repeat(400_000) } })),
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text).error.code).toBe('payload_too_large');
    expect(await bugCount(project, wire)).toBe(0);
  });
});

describe('unknown routes and methods', () => {
  it('answers in the error envelope', async () => {
    await expectError(await lc.api('/api/v1/nope'), 404, 'not_found');
  });
});
