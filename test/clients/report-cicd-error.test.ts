import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { bugsOf, type Exit, repoRoot, runProcess } from './support';

const script = join(repoRoot, 'clients', 'report-cicd-error.sh');

/** What a Gitea Actions runner sets for run #24 of zyc/rtc_backend on main. */
const giteaRun = {
  GITHUB_WORKFLOW: 'Build and Deploy',
  GITHUB_JOB: 'build-and-deploy',
  GITHUB_SHA: 'abc1234def5678abc1234def5678abc1234def56',
  GITHUB_REF_NAME: 'main',
  GITHUB_RUN_NUMBER: '24',
  GITHUB_RUN_ID: '91873',
  GITHUB_REPOSITORY: 'zyc/rtc_backend',
  GITHUB_SERVER_URL: 'https://gitea.airlabs.art',
  GITHUB_ACTOR: 'zyc',
};

/** Runs the script with only PATH inherited, so the host's own CI variables cannot leak in. */
function run(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return runProcess('bash', [script, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
}

const output = (r: Exit) => (r.stdout + r.stderr).trimEnd();

let lc: LogCenterHandle;
let dir: string;
// The script needs curl and jq, as the CI runners it is made for have them; without them
// every case below would fail on an empty output, so say what is missing once instead.
beforeAll(() => {
  for (const tool of ['curl', 'jq']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is needed by report-cicd-error.sh and its tests: apt-get install ${tool}`);
    }
  }
});

beforeAll(async () => {
  lc = await startLogCenter();
  dir = mkdtempSync(join(tmpdir(), 'cicd-report-'));
});
afterAll(async () => {
  await lc.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function onlyBug(project: string) {
  const bugs = await bugsOf(lc, project);
  expect(bugs).toHaveLength(1);
  return bugs[0]!;
}

describe('report-cicd-error.sh against a running Log Center', () => {
  it('reports a message with the runner context and says so in one line', async () => {
    const project = uniqueProject('ci');
    const result = await run([project, 'Build Docker Image', 'Docker build failed: exit code 1'], {
      ...giteaRun,
      LOG_CENTER_URL: lc.url,
    });

    expect(result.code).toBe(0);
    expect(output(result).split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(
      /^log-center: reported DockerBuildError in step 'Build Docker Image' of \S+: Log reported, id \d+\n$/,
    );

    const bug = await onlyBug(project);
    expect(bug).toMatchObject({
      source: 'cicd',
      level: 'ERROR',
      environment: 'main',
      commit_hash: giteaRun.GITHUB_SHA,
      error: {
        type: 'DockerBuildError',
        message: 'Docker build failed: exit code 1',
        file_path: null,
        line_number: null,
        stack_trace: ['Docker build failed: exit code 1'],
      },
    });
    expect(bug.context).toEqual({
      job_name: 'build-and-deploy',
      step_name: 'Build Docker Image',
      workflow: 'Build and Deploy',
      run_id: '24',
      branch: 'main',
      actor: 'zyc',
      commit: giteaRun.GITHUB_SHA,
      repository: 'zyc/rtc_backend',
      // The run number (24), never the global run id (91873): that would open the wrong run.
      run_url: 'https://gitea.airlabs.art/zyc/rtc_backend/actions/runs/24',
    });

    const projectRes = await lc.api(`/api/v1/projects/${project}`);
    expect(((await projectRes.json()) as { repo_url: string }).repo_url).toBe(
      'https://gitea.airlabs.art/zyc/rtc_backend.git',
    );
  });

  it('links a github.com run by its id, which is how GitHub addresses runs', async () => {
    const project = uniqueProject('ci');
    await run([project, 'Build', 'failed'], {
      ...giteaRun,
      GITHUB_SERVER_URL: 'https://github.com',
      LOG_CENTER_URL: lc.url,
    });
    expect((await onlyBug(project)).context).toMatchObject({
      run_id: '24',
      run_url: 'https://github.com/zyc/rtc_backend/actions/runs/91873',
    });
  });

  it('deduplicates a second failure of the same step and prints the bug status', async () => {
    const project = uniqueProject('ci');
    const env = { ...giteaRun, LOG_CENTER_URL: lc.url };
    await run([project, 'Run Tests', 'first failure'], env);
    const second = await run([project, 'Run Tests', 'second failure'], { ...env, GITHUB_RUN_NUMBER: '25' });

    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Log deduplicated, id \d+, status NEW\n$/);
    const bug = await onlyBug(project);
    expect(bug.occurrence_count).toBe(2);
  });

  it('sends the last 100 lines of a log file as the stack trace', async () => {
    const project = uniqueProject('ci');
    const log = join(dir, 'build.log');
    const lines = Array.from({ length: 150 }, (_, i) => `step output line ${i + 1}`);
    writeFileSync(log, `${lines.join('\n')}\n`);

    const result = await run([project, 'Build', log], { ...giteaRun, LOG_CENTER_URL: lc.url });

    expect(result.code).toBe(0);
    const bug = await onlyBug(project);
    expect(bug.error.stack_trace).toEqual(lines.slice(50));
    expect(bug.error.message).toBe('[Build] Build and Deploy failed on branch main');
    expect(bug.error.type).toBe('CICDFailure');
  });

  it('keeps quotes, backslashes, shell syntax, tabs, CRLF and non-ASCII text intact', async () => {
    const project = uniqueProject('ci');
    const nasty = [
      'error: "unterminated string" in \'config\'',
      'C:\\Users\\runner\\build\\out.js and a lone \\ backslash and \\n not a newline',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax the script must not expand
      '$(rm -rf /) `whoami` ${HOME} $PATH; echo pwned && exit 1',
      '\ttab-indented\tline',
      '{"json": ["looking", 1, null]} </script><img src=x>',
      '构建失败：找不到模块 😱 ü é',
      '\u001b[31mnpm ERR!\u001b[0m code ELIFECYCLE',
      'windows line ending\r',
    ];
    const log = join(dir, 'nasty.log');
    writeFileSync(log, `${nasty.join('\n')}\n`);

    const fromFile = await run([project, 'npm run build', log], { LOG_CENTER_URL: lc.url });
    const message = 'it\'s "broken": $(id) `id` \\ \u00e9\tand a second\nline';
    const fromMessage = await run([project, 'Lint', message], { LOG_CENTER_URL: lc.url });

    expect(fromFile.code).toBe(0);
    expect(fromMessage.code).toBe(0);
    expect(fromFile.stdout).toContain('Log reported');
    expect(fromMessage.stdout).toContain('Log reported');

    const bugs = await bugsOf(lc, project);
    const build = bugs.find((b) => b.error.type === 'NpmBuildError')!;
    // Log Center strips ANSI colour codes; the CR of a CRLF line is not part of the text.
    expect(build.error.stack_trace).toEqual([
      ...nasty.slice(0, 6),
      'npm ERR! code ELIFECYCLE',
      'windows line ending',
    ]);
    const lint = bugs.find((b) => b.error.type === 'LintError')!;
    expect(lint.error.message).toBe(message);
    expect(lint.error.stack_trace).toEqual(message.split('\n'));
  });

  it('fits a log of very long lines under the size limit and keeps its end', async () => {
    const project = uniqueProject('ci');
    const log = join(dir, 'minified.log');
    const long = 'x'.repeat(20_000);
    writeFileSync(log, `${Array.from({ length: 99 }, () => long).join('\n')}\nFATAL: the actual failure\n`);

    const result = await run([project, 'Build frontend', log], { LOG_CENTER_URL: lc.url });

    expect(result.stdout).toContain('Log reported');
    const bug = await onlyBug(project);
    expect(bug.error.stack_trace.at(-1)).toBe('FATAL: the actual failure');
    expect(bug.error.stack_trace.length).toBeGreaterThan(10);
  });

  it.each([
    ['Build Docker Image', 'DockerBuildError'],
    ['docker push', 'DockerBuildError'],
    ['npm run build', 'NpmBuildError'],
    ['Install dependencies (pnpm)', 'NpmBuildError'],
    ['Run Tests', 'TestFailure'],
    ['pytest', 'TestFailure'],
    ['npm test', 'TestFailure'],
    ['Lint', 'LintError'],
    ['eslint', 'LintError'],
    ['Deploy', 'DeployError'],
    ['kubectl rollout', 'DeployError'],
    ['Checkout', 'CICDFailure'],
    ['Upload latest artifacts', 'CICDFailure'],
  ])('infers %s → %s', async (step, type) => {
    const project = uniqueProject('ci');
    const result = await run([project, step, 'failed'], { LOG_CENTER_URL: lc.url });
    expect(result.stdout).toContain(`reported ${type} in step '${step}'`);
    expect((await onlyBug(project)).error.type).toBe(type);
  });

  it('lets LOG_CENTER_ERROR_TYPE and LOG_CENTER_ENVIRONMENT override the inferred values', async () => {
    const project = uniqueProject('ci');
    await run([project, 'Checkout', 'failed'], {
      ...giteaRun,
      LOG_CENTER_URL: lc.url,
      LOG_CENTER_ERROR_TYPE: 'MigrationError',
      LOG_CENTER_ENVIRONMENT: 'staging',
    });
    expect(await onlyBug(project)).toMatchObject({
      environment: 'staging',
      error: { type: 'MigrationError' },
    });
  });

  it('says no log was captured when the log file the step should have written is missing', async () => {
    const project = uniqueProject('ci');
    const result = await run([project, 'Deploy', join(dir, 'never-written.log')], { LOG_CENTER_URL: lc.url });
    expect(result.code).toBe(0);
    const bug = await onlyBug(project);
    expect(bug.error.message).toBe(`[Deploy] failed; no log captured at ${join(dir, 'never-written.log')}`);
  });

  it('sends the ingest key of a project that requires one', async () => {
    const project = uniqueProject('ci');
    const put = await lc.api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      body: JSON.stringify({ ingest_key: 'ci_ingest_key_123' }),
    });
    expect(put.status).toBe(200);

    const without = await run([project, 'Deploy', 'failed'], { LOG_CENTER_URL: lc.url });
    expect(without.code).toBe(0);
    expect(without.stderr).toMatch(/refused: HTTP 401 invalid_ingest_key/);

    const withKey = await run([project, 'Deploy', 'failed'], {
      LOG_CENTER_URL: lc.url,
      LOG_CENTER_KEY: 'ci_ingest_key_123',
    });
    expect(withKey.stdout).toContain('Log reported');
    expect(await bugsOf(lc, project)).toHaveLength(1);
  });

  it('exits 0 and prints the reason when Log Center refuses the report', async () => {
    const result = await run(['not a valid id!', 'Deploy', 'failed'], { LOG_CENTER_URL: lc.url });
    expect(result.code).toBe(0);
    expect(output(result)).toMatch(
      /^log-center: report of DeployError in step 'Deploy' refused: HTTP 422 validation_failed: .*project_id/,
    );
    expect(output(result).split('\n')).toHaveLength(1);
  });

  it('exits 0 with a usage line when arguments are missing', async () => {
    const result = await run(['only_a_project']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^log-center: usage: report-cicd-error\.sh <project_id> <step_name> <message\|logfile>/,
    );
  });
});

describe('report-cicd-error.sh when Log Center is down', () => {
  let hanging: Server;
  let hangingUrl: string;
  let closedUrl: string;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers: a stuck proxy or an overloaded server.
    hanging = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}`;

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    closedUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise((r) => closed.close(r));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => hanging.close(r));
  });

  it('exits 0 at once when the connection is refused', async () => {
    const result = await run(['rtc_backend', 'Deploy', 'failed'], { ...giteaRun, LOG_CENTER_URL: closedUrl });
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(3_000);
    expect(output(result)).toBe(
      `log-center: could not reach ${closedUrl} (connection refused); DeployError in step 'Deploy' not reported`,
    );
  });

  it('gives up after 10 s by default and exits 0', async () => {
    const result = await run(['rtc_backend', 'Run Tests', 'failed'], { LOG_CENTER_URL: hangingUrl });
    expect(result.code).toBe(0);
    expect(result.ms).toBeGreaterThanOrEqual(9_500);
    expect(result.ms).toBeLessThan(13_000);
    expect(output(result)).toBe(
      `log-center: could not reach ${hangingUrl} (no answer within 10s); TestFailure in step 'Run Tests' not reported`,
    );
  });

  it('honours LOG_CENTER_TIMEOUT', async () => {
    const result = await run(['rtc_backend', 'Run Tests', 'failed'], {
      LOG_CENTER_URL: hangingUrl,
      LOG_CENTER_TIMEOUT: '1',
    });
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(4_000);
    expect(output(result)).toContain('(no answer within 1s)');
  });
});
