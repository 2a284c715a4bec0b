import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit, type RunResult, run, untrustedEnv } from './exec';

export interface TestCommand {
  command: string;
  from: 'AGENT_TEST_CMD' | 'project setting' | 'detected';
}

// What `npm init` writes; running it only proves there are no tests.
const NPM_PLACEHOLDER = /no test specified/;

/** AGENT_TEST_CMD, else the project's test command setting, else what the repository looks like. */
export async function resolveTestCommand(
  dir: string,
  configured: string | undefined,
  projectSetting: string | null | undefined,
): Promise<TestCommand | null> {
  if (configured?.trim()) return { command: configured.trim(), from: 'AGENT_TEST_CMD' };
  if (projectSetting?.trim()) return { command: projectSetting.trim(), from: 'project setting' };
  const detected = await detectTestCommand(dir);
  return detected ? { command: detected, from: 'detected' } : null;
}

export async function detectTestCommand(dir: string): Promise<string | null> {
  const entries = new Set(await readdir(dir).catch(() => [] as string[]));

  if (entries.has('package.json')) {
    const pkg = await readJson(join(dir, 'package.json'));
    const script = (pkg as { scripts?: { test?: unknown } } | undefined)?.scripts?.test;
    if (typeof script === 'string' && script.trim() && !NPM_PLACEHOLDER.test(script)) return 'npm test';
  }
  if (entries.has('go.mod')) return 'go test ./...';
  if (['pytest.ini', 'conftest.py', 'tox.ini'].some((name) => entries.has(name))) return 'pytest';
  for (const name of ['pyproject.toml', 'setup.cfg']) {
    if (!entries.has(name)) continue;
    const text = await readFile(join(dir, name), 'utf8').catch(() => '');
    if (/\[tool\.pytest|\[tool:pytest\]/.test(text)) return 'pytest';
  }
  if (entries.has('tests') || entries.has('test')) {
    for (const folder of ['tests', 'test']) {
      const files = await readdir(join(dir, folder)).catch(() => [] as string[]);
      if (files.some((file) => /^test_.*\.py$|_test\.py$/.test(file))) return 'pytest';
    }
  }
  return null;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface TestRun {
  command: string;
  passed: boolean;
  /** `exit 0`, `exit 1`, `timed out after 600s`. */
  verdict: string;
  output: string;
  run: RunResult;
}

export async function runTests(options: {
  command: string;
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<TestRun> {
  const result = await run(options.command, [], {
    shell: true,
    cwd: options.cwd,
    // CI=1: test runners that would otherwise start a watcher (vitest, jest) run once and exit.
    env: untrustedEnv({ CI: '1' }),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  return {
    command: options.command,
    passed: result.code === 0 && !result.timedOut && !result.aborted,
    verdict: describeExit(result, options.timeoutMs),
    output: result.output,
    run: result,
  };
}
