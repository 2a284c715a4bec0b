/**
 * The repair agent end to end: a real Log Center, real git repositories (a bare origin and a
 * developer's work tree at `local_path`), a fixer script in place of the AI coding CLI, and a local
 * server answering Gitea's create-pull-request API.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runForever, runOnce } from '../../agent/src/agent';
import { uniqueProject } from '../helpers/server';
import {
  agentConfig,
  bugDetail,
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

async function repos(): Promise<Repos> {
  const created = await createRepos();
  cleanups.push(created.cleanup);
  return created;
}

describe('a bug the fixer can repair', () => {
  it('ends PENDING_REVIEW with a pushed fix branch, a Gitea pull request and a full repair report', async () => {
    const r = await repos();
    const project = uniqueProject('agent_happy');
    const bugId = await seedBug(suite.lc, project, {
      repo_url: `${suite.gitea.url}/acme/shop.git`,
      local_path: r.work,
    });
    const record = join(r.root, 'fixer.json');
    const lines: string[] = [];

    const summary = await runOnce(
      agentConfig(suite.lc, suite.gitea, {
        AGENT_PROJECTS: project,
        AGENT_WORKDIR: join(r.root, 'agent-work'),
        AGENT_FIXER_CMD: fixerCommand('fix', record),
      }),
      { progress: (line) => lines.push(line) },
    );

    expect(summary.errors).toEqual([]);
    expect(summary.claimed).toBe(1);
    const [outcome] = summary.outcomes;
    expect(outcome).toMatchObject({ bugId, projectId: project, status: 'PENDING_REVIEW', prNumber: 1 });
    const branch = outcome!.branch!;
    expect(branch).toMatch(new RegExp(`^fix/auto-\\d{8}-\\d{4}-${bugId}$`));

    // origin: the fix branch holds the fix on top of main; main itself did not move
    expect(await r.originRef('refs/heads/main')).toBe(r.mainBefore);
    expect(await r.originBranches()).toEqual([branch, 'main'].sort());
    expect(await git(r.origin, 'show', `${branch}:src/cart.js`)).toContain('(items ?? []).reduce');
    expect(await git(r.origin, 'show', `${branch}:test/cart.test.js`)).toContain('total(null)');
    expect(await git(r.origin, 'rev-parse', `${branch}~1`)).toBe(r.mainBefore);
    const message = await git(r.origin, 'log', '-1', '--format=%B', branch);
    expect(message.split('\n')[0]).toBe(`fix: auto repair bug #${bugId}`);
    expect(message).toContain("TypeError: Cannot read properties of null (reading 'reduce') (src/cart.js:2)");
    expect(message).toContain('The cart total crashed when the cart was null');
    expect(await git(r.origin, 'log', '-1', '--format=%an <%ae>', branch)).toBe(
      'Log Center repair agent <repair-agent@log-center.invalid>',
    );

    // the developer's work tree is as it was: on main, clean, main unmoved, no fix branch left over
    expect(await git(r.work, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(await git(r.work, 'status', '--porcelain')).toBe('');
    expect(await git(r.work, 'rev-parse', 'main')).toBe(r.mainBefore);
    expect(await r.localBranches()).toEqual(['main']);

    // the pull request, as Gitea received it
    expect(suite.gitea.requests).toHaveLength(1);
    const pr = suite.gitea.requests[0]!;
    expect(pr.method).toBe('POST');
    expect(pr.path).toBe('/api/v1/repos/acme/shop/pulls');
    expect(pr.headers.authorization).toBe(`token ${suite.gitea.token}`);
    expect(pr.body).toMatchObject({ title: `fix: auto repair bug #${bugId}`, head: branch, base: 'main' });
    const description = String(pr.body.body);
    expect(description).toContain(`Bug #${bugId}`);
    expect(description).toContain("Cannot read properties of null (reading 'reduce')");
    expect(description).toContain('`src/cart.js:2`');
    expect(description).toContain('The cart total crashed when the cart was null');
    expect(description).toContain('- `src/cart.js`');
    expect(description).toContain('- `test/cart.test.js`');
    expect(description).toContain('✅ Passed: `npm test`');
    expect(description).toContain('ok - an empty cart');
    expect(description).toContain('Review before merging');

    // Log Center: status, PR card, report and history
    const bug = await bugDetail(suite.lc, bugId);
    expect(bug).toMatchObject({
      status: 'PENDING_REVIEW',
      pr_number: 1,
      pr_url: `${suite.gitea.url}/acme/shop/pulls/1`,
      branch_name: branch,
      claimed_by: null,
    });
    expect(bug.repair_reports).toHaveLength(1);
    const report = bug.repair_reports[0]!;
    expect(report).toMatchObject({
      agent_id: 'agent-test',
      test_passed: true,
      branch_name: branch,
      pr_number: 1,
      pr_url: `${suite.gitea.url}/acme/shop/pulls/1`,
      // input + cache creation + cache reads; the costliest model of modelUsage
      tokens_in: 1500,
      tokens_out: 345,
      model: 'claude-sonnet-4-5',
    });
    expect([...(report.modified_files as string[])].sort()).toEqual(['src/cart.js', 'test/cart.test.js']);
    expect(report.analysis).toContain('total() now treats a missing cart as empty');
    expect(report.diff).toContain('+  return (items ?? []).reduce(');
    expect(report.test_output).toContain('ok - an empty cart');
    expect(report.duration_ms).toBeGreaterThan(0);
    expect(bug.history.at(-1)).toMatchObject({
      from_status: 'FIXING',
      to_status: 'PENDING_REVIEW',
      actor: 'agent-test',
    });
    expect(bug.history.at(-1)!.note).toContain(`${suite.gitea.url}/acme/shop/pulls/1`);

    // what the fixer was given
    const seen = (await readRecord(record))!;
    expect(seen.cwd).toBe(r.work);
    expect(seen.bugId).toBe(String(bugId));
    expect(seen.projectId).toBe(project);
    expect((seen.bug as { id: number }).id).toBe(bugId);
    const prompt = String(seen.prompt);
    expect(prompt).toContain("Error: TypeError: Cannot read properties of null (reading 'reduce')");
    expect(prompt).toContain('Location: src/cart.js:2');
    expect(prompt).toContain('at checkout (src/routes/checkout.js:14:10)');
    expect(prompt).toContain('"url": "/api/checkout"');
    expect(prompt).toContain('carts are plain arrays of {price, quantity}');

    // one progress line per step
    for (const step of [
      '[claimed]',
      '[1/5 repository]',
      '[2/5 fixer]',
      '[3/5 tests]',
      '[4/5 publish]',
      '[5/5 report]',
    ]) {
      expect(lines.some((line) => line.startsWith(`bug #${bugId} ${step}`))).toBe(true);
    }
  });

  it('clones repo_url under AGENT_WORKDIR when local_path is not a work tree, and reuses the clone', async () => {
    const r = await repos();
    const project = uniqueProject('agent_clone');
    const workdir = join(r.root, 'agent-work');
    const first = await seedBug(suite.lc, project, {
      repo_url: r.origin,
      local_path: join(r.root, 'no-such-checkout'),
      test_command: 'node test/cart.test.js',
    });
    const config = agentConfig(suite.lc, suite.gitea, {
      AGENT_PROJECTS: project,
      AGENT_WORKDIR: workdir,
      AGENT_FIXER_CMD: fixerCommand('fix'),
    });
    const lines: string[] = [];

    const summary = await runOnce(config, { progress: (line) => lines.push(line) });
    expect(summary.outcomes).toMatchObject([{ bugId: first, status: 'PENDING_REVIEW' }]);
    const clone = join(workdir, project);
    expect(existsSync(join(clone, '.git'))).toBe(true);
    expect(lines.some((line) => line.includes(`cloning ${r.origin}`))).toBe(true);
    expect(lines.some((line) => line.includes('running node test/cart.test.js (project setting)'))).toBe(
      true,
    );
    // owner and repository come from repo_url, even when it is a path
    expect(suite.gitea.requests[0]?.path).toBe('/api/v1/repos/acme/shop/pulls');
    const branch = summary.outcomes[0]!.branch!;
    expect(await r.originRef(`refs/heads/${branch}`)).not.toBeNull();
    expect(await r.originRef('refs/heads/main')).toBe(r.mainBefore);
    // the developer's checkout was not touched
    expect(await readFile(join(r.work, 'src/cart.js'), 'utf8')).not.toContain('??');

    // the same error in another file is another bug; the second run fetches into the existing clone
    const res = await suite.lc.report({
      project_id: project,
      environment: 'production',
      level: 'ERROR',
      error: {
        type: 'TypeError',
        message: "Cannot read properties of undefined (reading 'price')",
        file_path: 'src/cart.js',
        line_number: 3,
        stack_trace: ['    at total (src/cart.js:3:40)'],
      },
    });
    const second = ((await res.json()) as { id: number }).id;
    const again = await runOnce(config, { progress: (line) => lines.push(line) });
    expect(again.outcomes).toMatchObject([{ bugId: second, status: 'PENDING_REVIEW' }]);
    expect(lines.filter((line) => line.includes('cloning'))).toHaveLength(1);
    expect((await bugDetail(suite.lc, second)).status).toBe('PENDING_REVIEW');
  });

  it('runs the fixer and the tests in local_path when it is a package inside a larger repository', async () => {
    const r = await createRepos({ packageDir: 'packages/shop' });
    cleanups.push(r.cleanup);
    const project = uniqueProject('agent_monorepo');
    const bugId = await seedBug(suite.lc, project, {
      repo_url: `${suite.gitea.url}/acme/shop.git`,
      local_path: join(r.work, 'packages/shop'),
    });
    const record = join(r.root, 'fixer.json');
    const summary = await runOnce(
      agentConfig(suite.lc, suite.gitea, {
        AGENT_PROJECTS: project,
        AGENT_WORKDIR: join(r.root, 'agent-work'),
        AGENT_FIXER_CMD: fixerCommand('fix', record),
      }),
    );
    expect(summary.outcomes).toMatchObject([{ bugId, status: 'PENDING_REVIEW' }]);
    expect((await readRecord(record))!.cwd).toBe(join(r.work, 'packages/shop'));
    const report = (await bugDetail(suite.lc, bugId)).repair_reports[0]!;
    expect([...(report.modified_files as string[])].sort()).toEqual([
      'packages/shop/src/cart.js',
      'packages/shop/test/cart.test.js',
    ]);
    expect(report.test_output).toContain('ok - an empty cart');
  });

  it('keeps polling: a bug reported while the agent runs is repaired on a later poll', async () => {
    const r = await repos();
    const project = uniqueProject('agent_poll');
    const stop = new AbortController();
    const lines: string[] = [];
    const running = runForever(
      agentConfig(suite.lc, suite.gitea, {
        AGENT_PROJECTS: project,
        AGENT_POLL_SECONDS: '1',
        AGENT_WORKDIR: join(r.root, 'agent-work'),
        AGENT_FIXER_CMD: fixerCommand('fix'),
      }),
      { signal: stop.signal, progress: (line) => lines.push(line) },
    );
    await new Promise((done) => setTimeout(done, 300));
    const bugId = await seedBug(suite.lc, project, {
      repo_url: `${suite.gitea.url}/acme/shop.git`,
      local_path: r.work,
    });

    const deadline = Date.now() + 20_000;
    while ((await bugDetail(suite.lc, bugId)).status !== 'PENDING_REVIEW' && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 100));
    }
    expect((await bugDetail(suite.lc, bugId)).status).toBe('PENDING_REVIEW');
    const stopped = Date.now();
    stop.abort();
    await running;
    expect(Date.now() - stopped).toBeLessThan(1_000);
    expect(lines).toContain('summary: 1 claimed, 1 pending review, 0 failed, 0 error(s)');
  });

  it('only claims runtime bugs of the projects in AGENT_PROJECTS', async () => {
    const r = await repos();
    const mine = uniqueProject('agent_scope');
    const other = uniqueProject('agent_other');
    const bugId = await seedBug(suite.lc, mine, {
      repo_url: `${suite.gitea.url}/acme/shop.git`,
      local_path: r.work,
    });
    const otherBug = await seedBug(suite.lc, other, {
      repo_url: `${suite.gitea.url}/acme/shop.git`,
      local_path: r.work,
    });
    const cicd = await suite.lc.report({
      project_id: mine,
      environment: 'main',
      level: 'ERROR',
      source: 'cicd',
      error: { type: 'CICDFailure', message: '[build] failed' },
      context: { job_name: 'build', step_name: 'test' },
    });
    const cicdBug = ((await cicd.json()) as { id: number }).id;

    const summary = await runOnce(
      agentConfig(suite.lc, suite.gitea, {
        AGENT_PROJECTS: mine,
        AGENT_WORKDIR: join(r.root, 'agent-work'),
        AGENT_FIXER_CMD: fixerCommand('fix'),
      }),
    );

    expect(summary.outcomes.map((o) => o.bugId)).toEqual([bugId]);
    expect((await bugDetail(suite.lc, otherBug)).status).toBe('NEW');
    expect((await bugDetail(suite.lc, cicdBug)).status).toBe('NEW');
  });
});
