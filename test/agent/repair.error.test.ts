/**
 * Every way a repair can go wrong after the claim ends in FAILED with the reason and a report, with
 * nothing pushed (or, once the branch is pushed, no pull request) and the repository as it was found.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../agent/src/agent';
import { uniqueProject } from '../helpers/server';
import {
  agentConfig,
  bugDetail,
  CART_JS,
  createRepos,
  fixerCommand,
  git,
  type Repos,
  readRecord,
  seedBug,
  useAgentSuite,
} from './support';

const suite = useAgentSuite();
const { cleanups } = suite;

/** A bug in a fresh repository pair, run once through the agent with the given fixer mode. */
async function attempt(
  mode: string,
  env: Record<string, string> = {},
  prepare?: (r: Repos) => Promise<void>,
) {
  const r = await createRepos();
  cleanups.push(r.cleanup);
  const project = uniqueProject(`agent_${mode}`);
  const bugId = await seedBug(suite.lc, project, {
    repo_url: `${suite.gitea.url}/acme/shop.git`,
    local_path: r.work,
  });
  await prepare?.(r);
  const record = join(r.root, 'fixer.json');
  const lines: string[] = [];
  const started = Date.now();
  const summary = await runOnce(
    agentConfig(suite.lc, suite.gitea, {
      AGENT_PROJECTS: project,
      AGENT_WORKDIR: join(r.root, 'agent-work'),
      AGENT_FIXER_CMD: fixerCommand(mode, record),
      ...env,
    }),
    { progress: (line) => lines.push(line) },
  );
  const bug = await bugDetail(suite.lc, bugId);
  return { r, bugId, summary, bug, lines, record, elapsedMs: Date.now() - started };
}

/** Whether a process is alive; a zombie (killed, not yet reaped by its new parent) is not. */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat !== null) return !/^\d+ \(.*\) Z/.test(stat);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Nothing reached origin, and the work tree is back on an unmoved main with no leftovers. */
async function expectUntouched(r: Repos) {
  expect(await r.originBranches()).toEqual(['main']);
  expect(await r.originRef('refs/heads/main')).toBe(r.mainBefore);
  expect(await r.localBranches()).toEqual(['main']);
  expect(await git(r.work, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
  expect(await git(r.work, 'rev-parse', 'HEAD')).toBe(r.mainBefore);
}

describe('the repair fails', () => {
  it('when the fixer changes nothing', async () => {
    const { r, bugId, summary, bug } = await attempt('noop');
    expect(summary.errors).toEqual([]);
    expect(summary.outcomes).toMatchObject([
      { bugId, status: 'FAILED', reason: 'the fixer made no changes' },
    ]);
    expect(bug.status).toBe('FAILED');
    expect(bug.claimed_by).toBeNull();
    expect(bug.history.at(-1)).toMatchObject({
      from_status: 'FIXING',
      to_status: 'FAILED',
      actor: 'agent-test',
      note: 'the fixer made no changes',
    });
    expect(bug.repair_reports).toHaveLength(1);
    expect(bug.repair_reports[0]).toMatchObject({ modified_files: [], test_passed: null, pr_number: null });
    expect(bug.repair_reports[0]!.analysis).toContain('Repair failed: the fixer made no changes');
    expect(bug.repair_reports[0]!.analysis).toContain('I could not find the cause');
    await expectUntouched(r);
    expect(await git(r.work, 'status', '--porcelain')).toBe('');
    expect(suite.gitea.requests).toEqual([]);
  });

  it('when the tests fail after the fix, with the test output in the report', async () => {
    const { r, bugId, summary, bug } = await attempt('break');
    expect(summary.outcomes).toMatchObject([
      { bugId, status: 'FAILED', reason: 'tests failed: npm test exit 1' },
    ]);
    expect(bug.status).toBe('FAILED');
    expect(bug.history.at(-1)?.note).toBe('tests failed: npm test exit 1');
    const report = bug.repair_reports[0]!;
    expect(report).toMatchObject({
      test_passed: false,
      modified_files: ['src/cart.js'],
      model: 'claude-sonnet-4-5',
    });
    expect(report.test_output).toContain('AssertionError');
    expect(report.diff).toContain('+  return 0;');
    expect(report.branch_name).toBeNull();
    await expectUntouched(r);
    // the broken change is gone from the developer's checkout
    expect(await readFile(join(r.work, 'src/cart.js'), 'utf8')).toBe(CART_JS);
    expect(await git(r.work, 'status', '--porcelain')).toBe('');
    expect(suite.gitea.requests).toEqual([]);
  });

  it('when the fixer runs past AGENT_FIXER_TIMEOUT_SECONDS, ending everything it started', async () => {
    const { r, bugId, summary, bug, record, elapsedMs } = await attempt('hang', {
      AGENT_FIXER_TIMEOUT_SECONDS: '1',
    });
    expect(summary.outcomes).toMatchObject([{ bugId, status: 'FAILED', reason: 'fixer timed out after 1s' }]);
    expect(bug.status).toBe('FAILED');
    expect(bug.repair_reports[0]!.analysis).toContain('thinking…');
    // the fixer's child (sleep 120) held stdout open; only killing the process group ends the run
    expect(elapsedMs).toBeLessThan(15_000);
    const pid = (await readRecord(record))!.grandchildPid as number;
    expect(await running(pid)).toBe(false);
    await expectUntouched(r);
  });

  it('when the fixer exits non-zero', async () => {
    const { r, bugId, summary, bug } = await attempt('crash');
    expect(summary.outcomes).toMatchObject([{ bugId, status: 'FAILED', reason: 'fixer exit 3' }]);
    expect(bug.repair_reports[0]!.analysis).toContain('cannot reach the model API');
    await expectUntouched(r);
  });

  it('when the work tree has uncommitted changes, which stay as they were', async () => {
    const { r, bugId, summary, bug, record } = await attempt('fix', {}, async (repos) => {
      await writeFile(join(repos.work, 'src/cart.js'), `${CART_JS}// work in progress\n`);
      await writeFile(join(repos.work, 'notes.txt'), 'draft\n');
    });
    expect(summary.outcomes).toMatchObject([{ bugId, status: 'FAILED' }]);
    expect(summary.outcomes[0]!.reason).toBe(
      `the work tree at ${r.work} has uncommitted changes; the agent only works on a clean tree`,
    );
    expect(bug.status).toBe('FAILED');
    expect(bug.repair_reports[0]!.analysis).toContain('?? notes.txt');
    // the fixer never ran and the developer's changes are intact
    expect(await readRecord(record)).toBeNull();
    expect(await readFile(join(r.work, 'src/cart.js'), 'utf8')).toContain('// work in progress');
    expect(await readFile(join(r.work, 'notes.txt'), 'utf8')).toBe('draft\n');
    expect(await git(r.work, 'status', '--short')).toBe('M src/cart.js\n?? notes.txt');
    expect(await r.originBranches()).toEqual(['main']);
    expect(await r.localBranches()).toEqual(['main']);
  });

  it('when the repository cannot be prepared, claiming no further bug of the project in that run', async () => {
    const r = await createRepos();
    cleanups.push(r.cleanup);
    const project = uniqueProject('agent_blocked');
    const first = await seedBug(suite.lc, project, {
      repo_url: `${suite.gitea.url}/acme/shop.git`,
      local_path: r.work,
    });
    const res = await suite.lc.report({
      project_id: project,
      environment: 'production',
      level: 'ERROR',
      error: {
        type: 'RangeError',
        message: 'bad quantity',
        file_path: 'src/cart.js',
        line_number: 2,
        stack_trace: [],
      },
    });
    const second = ((await res.json()) as { id: number }).id;
    await writeFile(join(r.work, 'notes.txt'), 'draft\n');
    const lines: string[] = [];

    const summary = await runOnce(
      agentConfig(suite.lc, suite.gitea, {
        AGENT_PROJECTS: project,
        AGENT_WORKDIR: join(r.root, 'agent-work'),
        AGENT_FIXER_CMD: fixerCommand('fix'),
      }),
      { progress: (line) => lines.push(line) },
    );

    expect(summary.claimed).toBe(1);
    expect(summary.outcomes[0]).toMatchObject({ status: 'FAILED', stage: 'repository' });
    const statuses = [
      (await bugDetail(suite.lc, first)).status,
      (await bugDetail(suite.lc, second)).status,
    ].sort();
    expect(statuses).toEqual(['FAILED', 'NEW']);
    expect(lines).toContain(
      `not claiming more bugs of ${project} in this run: the repository could not be prepared`,
    );
  });

  it('when Gitea refuses the token: FAILED with the pushed branch named for a person to finish', async () => {
    const { r, bugId, summary, bug } = await attempt('fix', { GITEA_TOKEN: 'not-the-token' });
    const outcome = summary.outcomes[0]!;
    expect(outcome).toMatchObject({ bugId, status: 'FAILED' });
    expect(outcome.reason).toContain(
      'gitea refused the pull request (401: the stand-in does not know this token)',
    );
    expect(outcome.reason).toContain(`${outcome.branch} is pushed to origin; open it by hand`);
    expect(suite.gitea.requests).toHaveLength(1);
    expect(suite.gitea.requests[0]!.headers.authorization).toBe('token not-the-token');

    expect(bug.status).toBe('FAILED');
    expect(bug.pr_number).toBeNull();
    expect(bug.repair_reports[0]).toMatchObject({
      test_passed: true,
      branch_name: outcome.branch,
      pr_number: null,
    });
    // the branch is in origin, main is not moved, the checkout is back on main
    expect(await r.originRef(`refs/heads/${outcome.branch}`)).not.toBeNull();
    expect(await r.originRef('refs/heads/main')).toBe(r.mainBefore);
    expect(await r.localBranches()).toEqual(['main']);
  });

  it('when no test command is set or detected', async () => {
    const { r, bugId, summary } = await attempt('fix', {}, async (repos) => {
      await git(repos.work, 'rm', '--quiet', 'package.json');
      await git(repos.work, 'commit', '--quiet', '-m', 'drop package.json');
      await git(repos.work, 'push', '--quiet', 'origin', 'main');
    });
    expect(summary.outcomes).toMatchObject([{ bugId, status: 'FAILED' }]);
    expect(summary.outcomes[0]!.reason).toMatch(/^no test command: set AGENT_TEST_CMD/);
    expect(await r.originBranches()).toEqual(['main']);
    expect(suite.gitea.requests).toEqual([]);
  });

  it('when the agent is asked to stop mid-repair', async () => {
    const r = await createRepos();
    cleanups.push(r.cleanup);
    const project = uniqueProject('agent_stop');
    const bugId = await seedBug(suite.lc, project, {
      repo_url: `${suite.gitea.url}/acme/shop.git`,
      local_path: r.work,
    });
    const stop = new AbortController();
    const summary = await runOnce(
      agentConfig(suite.lc, suite.gitea, {
        AGENT_PROJECTS: project,
        AGENT_WORKDIR: join(r.root, 'agent-work'),
        AGENT_FIXER_CMD: fixerCommand('hang'),
      }),
      {
        signal: stop.signal,
        progress: (line) => {
          if (line.includes('[2/5 fixer] running')) setTimeout(() => stop.abort(), 200);
        },
      },
    );
    expect(summary.outcomes).toMatchObject([
      { bugId, status: 'FAILED', reason: 'fixer stopped because the agent is shutting down' },
    ]);
    expect((await bugDetail(suite.lc, bugId)).status).toBe('FAILED');
    await expectUntouched(r);
  });
});
