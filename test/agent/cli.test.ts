/** `npm run agent -- --once` as a person runs it: a child process printing progress and a summary. */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import {
  bugDetail,
  createRepos,
  fixerCommand,
  type GiteaStandIn,
  readRecord,
  seedBug,
  startGiteaStandIn,
} from './support';

const repoRoot = resolve(import.meta.dirname, '../..');

let lc: LogCenterHandle;
let gitea: GiteaStandIn;
beforeAll(async () => {
  lc = await startLogCenter();
  gitea = await startGiteaStandIn();
});
afterAll(async () => {
  await gitea.close();
  await lc.stop();
});

function agent(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'agent/src/main.ts', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) =>
    child.on('close', (code) => done({ code, stdout, stderr })),
  );
}

// Each run starts the TypeScript loader, which is slow on a busy machine.
describe('npm run agent -- --once', { timeout: 60_000 }, () => {
  it('repairs what is claimable, prints a line per step and a summary, and exits 0', async () => {
    const r = await createRepos();
    try {
      const project = uniqueProject('agent_cli');
      const fixed = await seedBug(lc, project, {
        repo_url: `${gitea.url}/acme/shop.git`,
        local_path: r.work,
      });
      const record = join(r.root, 'fixer.json');
      const testEnv = join(r.root, 'test-env.txt');
      const { code, stdout, stderr } = await agent(['--once'], {
        LOG_CENTER_URL: lc.url,
        LOG_CENTER_TOKEN: lc.token,
        AGENT_ID: 'cli-agent',
        AGENT_PROJECTS: project,
        AGENT_WORKDIR: join(r.root, 'agent-work'),
        AGENT_FIXER_CMD: fixerCommand('fix', record),
        AGENT_TEST_CMD: `env > '${testEnv}' && npm test`,
        GITEA_URL: gitea.url,
        GITEA_TOKEN: gitea.token,
        GITHUB_TOKEN: 'github-secret',
      });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const lines = stdout.trim().split('\n');
      // every line is time-stamped
      for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z /);
      expect(stdout).toContain(`repair agent cli-agent: once, Log Center ${lc.url}, projects ${project}`);
      for (const step of [
        '[1/5 repository]',
        '[2/5 fixer]',
        '[3/5 tests]',
        '[4/5 publish]',
        '[5/5 report]',
      ]) {
        expect(stdout).toContain(`bug #${fixed} ${step}`);
      }
      expect(stdout).toContain('summary: 1 claimed, 1 pending review, 0 failed, 0 error(s)');
      expect(stdout).toMatch(
        new RegExp(
          `bug #${fixed} \\(${project}\\) PENDING_REVIEW: PR #\\d+ ${gitea.url}/acme/shop/pulls/\\d+`,
        ),
      );
      expect((await bugDetail(lc, fixed)).status).toBe('PENDING_REVIEW');

      // the fixer and the tests run code the agent did not write: they never see its credentials
      expect((await readRecord(record))!.secrets).toEqual([]);
      const seenByTests = await readFile(testEnv, 'utf8');
      expect(seenByTests).toMatch(/^CI=1$/m);
      expect(seenByTests).not.toMatch(/^(LOG_CENTER_TOKEN|GITEA_TOKEN|GITHUB_TOKEN)=/m);
    } finally {
      await r.cleanup();
    }
  });

  it('exits 1 with the reason when Log Center cannot be reached', async () => {
    const { code, stdout } = await agent(['--once'], {
      LOG_CENTER_URL: 'http://127.0.0.1:9',
      LOG_CENTER_TOKEN: 'x',
      GITEA_TOKEN: 'x',
    });
    expect(code).toBe(1);
    expect(stdout).toContain('summary: 0 claimed, 0 pending review, 0 failed, 1 error(s)');
    expect(stdout).toMatch(/error: claim failed: POST \/api\/v1\/tasks\/claim: fetch failed/);
  });

  it('exits 2 and names the missing settings', async () => {
    const { code, stderr } = await agent(['--once'], {});
    expect(code).toBe(2);
    expect(stderr).toContain('LOG_CENTER_TOKEN: required');
    expect(stderr).toContain('GITEA_TOKEN: required (or GITHUB_TOKEN)');
  });
});
