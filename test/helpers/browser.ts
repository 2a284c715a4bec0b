import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/**
 * The browser suites need a Chromium and never download one at run time. They take, in order:
 *   1. CHROMIUM_PATH;
 *   2. a system Chromium or Chrome (on PATH, or where installers put it);
 *   3. the headless Chromium that ships inside the `@sparticuz/chromium` devDependency
 *      (linux-x64 only), unpacked once into the temporary directory.
 * LOG_CENTER_TEST_BROWSER=package skips 1 and 2, to prove the packaged one on a machine that
 * has a system Chromium too. With none, launchChromium throws one line saying what to install:
 * a missing browser fails the browser suites, it never skips them.
 */
interface FoundChromium {
  executablePath: string;
  args: string[];
  env?: Record<string, string>;
}

const COMMON_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // The machines have no network but the registries: without these, Chromium keeps dialling
  // Google's hosts and the refused connections slow every page.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
const SYSTEM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/opt/google/chrome/chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
  'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
];

export const NO_CHROMIUM =
  'No Chromium for the browser tests: install Chromium or Chrome (Debian: apt-get install chromium) ' +
  'or set CHROMIUM_PATH to its binary; on linux-x64, npm ci brings one in @sparticuz/chromium.';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function systemChromium(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of SYSTEM_NAMES) {
    for (const dir of onPath) {
      if (executable(join(dir, name))) return join(dir, name);
    }
  }
  return SYSTEM_PATHS.find(executable);
}

/**
 * Unpacks the package's brotli files into a directory of their own. The package unpacks into
 * os.tmpdir() and returns `/tmp/chromium` as soon as that file exists, so several test files
 * starting at once could launch a half-written binary: each unpacks into a fresh staging
 * directory in a child process (TMPDIR pointed there), and the first to finish renames it
 * into place.
 */
function packagedChromium(): FoundChromium | undefined {
  if (platform() !== 'linux' || arch() !== 'x64') return undefined;
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  } catch {
    return undefined;
  }
  const root = join(dirname(entry), '..', '..');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const dir = join(tmpdir(), `log-center-chromium-${version}`);
  const binary = join(dir, 'chromium');
  if (!existsSync(binary)) {
    const staging = mkdtempSync(`${dir}-staging-`);
    const unpack = spawnSync(
      process.execPath,
      ['-e', 'require(process.argv[1]).executablePath().then((p) => process.stdout.write(p))', entry],
      { env: { ...process.env, TMPDIR: staging }, encoding: 'utf8' },
    );
    if (unpack.status !== 0 || unpack.stdout !== join(staging, 'chromium')) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(`@sparticuz/chromium did not unpack: ${unpack.stderr.trim().split('\n').pop()}`);
    }
    // The package's fonts.conf names /tmp/fonts; ours names where the fonts are, and the system's.
    writeFileSync(
      join(staging, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
        `  <dir>${join(dir, 'fonts', 'fonts')}</dir>\n  <dir>/usr/share/fonts</dir>\n` +
        `  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(staging, dir);
    } catch {
      // Another test file got there first; its copy is complete, since it was renamed whole.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  mkdirSync(join(dir, 'fonts-cache'), { recursive: true });
  return {
    executablePath: binary,
    // It is a chrome-headless-shell build for AWS Lambda; the package's own flags that matter off Lambda.
    args: ['--no-zygote', '--disable-setuid-sandbox'],
    env: { FONTCONFIG_FILE: join(dir, 'fonts.conf') },
  };
}

function findChromium(): FoundChromium | undefined {
  if (process.env.LOG_CENTER_TEST_BROWSER !== 'package') {
    const configured = process.env.CHROMIUM_PATH;
    if (configured) {
      if (!executable(configured)) throw new Error(`CHROMIUM_PATH=${configured} is not an executable file.`);
      return { executablePath: configured, args: [] };
    }
    const system = systemChromium();
    if (system) return { executablePath: system, args: [] };
  }
  return packagedChromium();
}

export async function launchChromium(): Promise<Browser> {
  const found = findChromium();
  if (!found) throw new Error(NO_CHROMIUM);
  return chromium.launch({
    executablePath: found.executablePath,
    headless: true,
    args: [...COMMON_ARGS, ...found.args],
    env: found.env ? { ...process.env, ...found.env } : undefined,
  });
}
