import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';
import { bugsOf, repoRoot, runProcess } from './support';

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  shell?: string;
  env?: Record<string, string>;
  run?: string;
}

const workflow = parse(readFileSync(join(repoRoot, 'clients', 'gitea-actions-example.yaml'), 'utf8')) as {
  env: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
};
const steps = Object.values(workflow.jobs)[0]!.steps;
const reportStep = steps.find((step) => step.if === 'failure()')!;

let lc: LogCenterHandle;
let workspace: string;
beforeAll(async () => {
  lc = await startLogCenter();
  // A checkout of the user's repository, with the script vendored where the example expects it.
  workspace = mkdtempSync(join(tmpdir(), 'gitea-workspace-'));
  mkdirSync(join(workspace, 'scripts'));
  copyFileSync(
    join(repoRoot, 'clients', 'report-cicd-error.sh'),
    join(workspace, 'scripts', 'report-cicd-error.sh'),
  );
});
afterAll(async () => {
  await lc.stop();
  rmSync(workspace, { recursive: true, force: true });
});

/** Runs the example's failure step as the runner would, with the step outcomes given. */
async function runReportStep(project: string, outcomes: { build: string; deploy: string }): Promise<string> {
  // The example writes logs to /tmp; keep this run's logs in its own folder.
  const script = reportStep.run!.replaceAll('/tmp/', `${workspace}/`);
  const env = {
    PATH: process.env.PATH ?? '',
    LOG_CENTER_URL: lc.url,
    LOG_CENTER_PROJECT: project,
    BUILD_OUTCOME: outcomes.build,
    DEPLOY_OUTCOME: outcomes.deploy,
    LOG_CENTER_KEY: '',
    GITHUB_WORKFLOW: 'Build and Deploy',
    GITHUB_JOB: 'build-and-deploy',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF_NAME: 'main',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_REPOSITORY: 'team/shop',
    GITHUB_SERVER_URL: 'https://gitea.example.com',
    GITHUB_ACTOR: 'alice',
  };
  const exit = await runProcess('bash', ['-e', '-c', script], { cwd: workspace, env });
  const output = exit.stdout + exit.stderr;
  if (exit.code !== 0) throw new Error(`step exited ${exit.code}: ${output}`);
  return output;
}

describe('gitea-actions-example.yaml', () => {
  it('captures the build and deploy output with tee and pipefail', () => {
    for (const id of ['build', 'deploy']) {
      const step = steps.find((s) => s.id === id)!;
      expect(step.run).toContain('set -o pipefail');
      expect(step.run).toMatch(new RegExp(`2>&1 \\| tee /tmp/${id}\\.log`));
    }
  });

  it('has a single failure step that takes the outcomes from env, not from interpolated script text', () => {
    expect(steps.filter((step) => step.if?.includes('failure()'))).toHaveLength(1);
    expect(reportStep.run).not.toContain('${{');
    expect(reportStep.env).toMatchObject({
      BUILD_OUTCOME: `\${{ steps.build.outcome }}`,
      DEPLOY_OUTCOME: `\${{ steps.deploy.outcome }}`,
    });
    expect(workflow.env).toHaveProperty('LOG_CENTER_URL');
  });

  it('reports a failed build with the tail of its log', async () => {
    const project = uniqueProject('gitea');
    writeFileSync(
      join(workspace, 'build.log'),
      '#5 [2/4] RUN npm ci\nERROR: failed to solve: exit code: 1\n',
    );

    const output = await runReportStep(project, { build: 'failure', deploy: 'skipped' });

    expect(output).toMatch(/reported DockerBuildError in step 'Build Docker Image'/);
    const [bug] = await bugsOf(lc, project);
    expect(bug).toMatchObject({
      source: 'cicd',
      environment: 'main',
      error: {
        type: 'DockerBuildError',
        message: '[Build Docker Image] Build and Deploy failed on branch main',
        stack_trace: ['#5 [2/4] RUN npm ci', 'ERROR: failed to solve: exit code: 1'],
      },
      context: {
        step_name: 'Build Docker Image',
        run_url: 'https://gitea.example.com/team/shop/actions/runs/7',
      },
    });
  });

  it('reports a failed deploy as a DeployError', async () => {
    const project = uniqueProject('gitea');
    writeFileSync(join(workspace, 'deploy.log'), 'error: deployment "shop" exceeded its progress deadline\n');

    await runReportStep(project, { build: 'success', deploy: 'failure' });

    const [bug] = await bugsOf(lc, project);
    expect(bug!.error).toMatchObject({
      type: 'DeployError',
      stack_trace: ['error: deployment "shop" exceeded its progress deadline'],
    });
  });

  it('reports an earlier failure with a message when no log was captured', async () => {
    const project = uniqueProject('gitea');
    await runReportStep(project, { build: 'skipped', deploy: 'skipped' });
    const [bug] = await bugsOf(lc, project);
    expect(bug!.error).toMatchObject({
      type: 'CICDFailure',
      message: 'A step before the build failed; see the run for its output',
    });
  });
});
