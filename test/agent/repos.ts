import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * Real git repositories and the scripted fixer for the agent's tests. Kept apart from support.ts,
 * which starts Log Center, so tests of the git steps alone do not load the server.
 */

const execFileAsync = promisify(execFile);

export const FIXER = resolve(import.meta.dirname, 'fixtures/fixer.mjs');
export const fixerCommand = (mode: string, record?: string) =>
  `${record ? `FIXER_RECORD='${record}' ` : ''}'${process.execPath}' '${FIXER}' ${mode}`;

/**
 * Git in a child process, never the sync variants: Log Center runs in this process and must keep
 * answering the agent.
 */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    'git',
    ['-c', 'user.name=Developer', '-c', 'user.email=dev@example.com', ...args],
    { cwd, env: { ...process.env, LC_ALL: 'C' } },
  );
  return stdout.trim();
}

export const CART_JS = [
  'function total(items) {',
  '  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);',
  '}',
  'module.exports = { total };',
  '',
].join('\n');

const CART_TEST = [
  "const assert = require('node:assert');",
  "const { total } = require('../src/cart');",
  'assert.strictEqual(total([{ price: 2, quantity: 3 }]), 6);',
  "console.log('ok - total of a cart');",
  '',
].join('\n');

export interface Repos {
  root: string;
  /** The bare repository standing in for the Gitea remote: `<root>/remote/acme/shop.git`. */
  origin: string;
  /** A developer's clone of it, used as the project's `local_path`. */
  work: string;
  /** origin's main before the agent ran. */
  mainBefore: string;
  /** Commit id of `ref` in origin, or null when it does not exist. */
  originRef(ref: string): Promise<string | null>;
  originBranches(): Promise<string[]>;
  localBranches(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/**
 * A small Node project (`npm test` passes) in a bare origin plus a work tree cloned from it;
 * with `packageDir`, the project sits in that folder of a larger repository.
 */
export async function createRepos(options: { packageDir?: string } = {}): Promise<Repos> {
  const root = await mkdtemp(join(tmpdir(), 'agent-repos-'));
  const seed = join(root, 'seed');
  const origin = join(root, 'remote', 'acme', 'shop.git');
  const work = join(root, 'work');
  const pkg = join(seed, options.packageDir ?? '.');
  await mkdir(join(pkg, 'src'), { recursive: true });
  await mkdir(join(pkg, 'test'), { recursive: true });
  await writeFile(
    join(pkg, 'package.json'),
    `${JSON.stringify({ name: 'shop', private: true, scripts: { test: 'node test/cart.test.js' } }, null, 2)}\n`,
  );
  await writeFile(join(pkg, 'src/cart.js'), CART_JS);
  await writeFile(join(pkg, 'test/cart.test.js'), CART_TEST);
  await writeFile(join(seed, '.gitignore'), 'node_modules/\n');
  await git(seed, 'init', '--quiet', '--initial-branch=main');
  await git(seed, 'add', '--all');
  await git(seed, 'commit', '--quiet', '-m', 'shop: cart total');
  await mkdir(dirname(origin), { recursive: true });
  await git(root, 'clone', '--quiet', '--bare', seed, origin);
  await git(root, 'clone', '--quiet', origin, work);
  const mainBefore = await git(origin, 'rev-parse', 'refs/heads/main');

  const branches = async (dir: string) =>
    (await git(dir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads')).split('\n').filter(Boolean);
  return {
    root,
    origin,
    work,
    mainBefore,
    async originRef(ref) {
      try {
        return await git(origin, 'rev-parse', '--verify', '--quiet', ref);
      } catch {
        return null;
      }
    },
    originBranches: () => branches(origin),
    localBranches: () => branches(work),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
