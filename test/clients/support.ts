import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import type { ApiBug, LogCenterHandle } from '../helpers/server';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

/**
 * Compiles a single-file client (`clients/browser/index.ts`, `clients/node/index.ts`) to an
 * ES module, exactly as a user's build would, so tests run the shipped code in a real
 * browser or a plain `node` process.
 */
export function compileClient(relativePath: string, outDir: string, outName: string): string {
  const source = readFileSync(join(repoRoot, relativePath), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: relativePath,
  });
  const out = join(outDir, outName);
  writeFileSync(out, outputText);
  return out;
}

/** 1-based line of the first line containing `marker`. */
export function lineOf(source: string, marker: string): number {
  const index = source.split('\n').findIndex((line) => line.includes(marker));
  if (index < 0) throw new Error(`marker ${marker} not found`);
  return index + 1;
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type StoredBug = ApiBug;

export async function bugsOf(lc: LogCenterHandle, projectId: string): Promise<StoredBug[]> {
  const res = await lc.api(`/api/v1/bugs?project_id=${encodeURIComponent(projectId)}&page_size=200`);
  if (res.status !== 200) throw new Error(`GET /api/v1/bugs answered ${res.status}`);
  return ((await res.json()) as { items: StoredBug[] }).items;
}

export async function bugDetail(
  lc: LogCenterHandle,
  id: number,
): Promise<StoredBug & { occurrences: unknown[] }> {
  const res = await lc.api(`/api/v1/bugs/${id}`);
  if (res.status !== 200) throw new Error(`GET /api/v1/bugs/${id} answered ${res.status}`);
  return res.json();
}

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end without blocking the event loop (the server runs in this process). */
export function runProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env: Record<string, string> },
): Promise<Exit> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(command, args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr, ms: Date.now() - started }));
  });
}
