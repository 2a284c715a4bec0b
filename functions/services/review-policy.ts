import type { ReviewSettings as StoredReviewSettings } from '../../schema';

/**
 * A project's review settings and the auto-approval rule, as pure functions: no database, no
 * Gitea. services/review.ts applies them.
 */

export const MERGE_STYLES = ['merge', 'squash', 'rebase'] as const;
export type MergeStyle = (typeof MERGE_STYLES)[number];

export interface AutoApprove {
  enabled: boolean;
  max_changed_lines: number;
  allowed_paths: string[];
  merge: boolean;
}

export interface ReviewSettings {
  reviewers: string[];
  merge_style: MergeStyle;
  auto_approve: AutoApprove;
}

export const DEFAULT_MAX_CHANGED_LINES = 20;

/** The stored JSON with every absent key filled, as every project object shows it. */
export function reviewSettingsOf(stored: StoredReviewSettings | null | undefined): ReviewSettings {
  const auto = stored?.auto_approve ?? {};
  return {
    reviewers: stored?.reviewers ?? [],
    merge_style: stored?.merge_style ?? 'merge',
    auto_approve: {
      enabled: auto.enabled ?? false,
      max_changed_lines: auto.max_changed_lines ?? DEFAULT_MAX_CHANGED_LINES,
      allowed_paths: auto.allowed_paths ?? [],
      merge: auto.merge ?? false,
    },
  };
}

/** What the policy reads of the bug's latest repair report. */
export interface ReportForPolicy {
  test_passed: boolean | null;
  modified_files: string[];
  diff: string | null;
}

export type AutoApprovalDecision =
  | { approve: true; rule: string; changed_lines: number; files: string[] }
  | { approve: false; reason: string; changed_lines?: number; files?: string[] };

export interface DiffSummary {
  /** Added plus removed lines, counted inside hunks only (so a removed "-- x" is not a header). */
  changedLines: number;
  files: string[];
  /** Files git reports as binary: their size in lines is unknown. */
  binaryFiles: string[];
}

/** Reads a unified diff as git writes it (`git diff`, one or more files). */
export function summariseDiff(diff: string): DiffSummary {
  const files = new Set<string>();
  const binaryFiles = new Set<string>();
  let changedLines = 0;
  let oldLeft = 0;
  let newLeft = 0;
  for (const line of diff.split(/\r?\n/)) {
    if (oldLeft > 0 || newLeft > 0) {
      const mark = line[0];
      if (mark === '+') {
        changedLines++;
        newLeft--;
        continue;
      }
      if (mark === '-') {
        changedLines++;
        oldLeft--;
        continue;
      }
      if (mark === ' ' || line === '') {
        oldLeft--;
        newLeft--;
        continue;
      }
      if (mark === '\\') continue;
      // Not a hunk line after all (a truncated diff): read it as a header.
      oldLeft = 0;
      newLeft = 0;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      continue;
    }
    const header = /^diff --git (.+)$/.exec(line);
    if (header) {
      for (const path of gitHeaderPaths(header[1]!)) files.add(path);
      continue;
    }
    const side = /^(?:---|\+\+\+) (.+)$/.exec(line);
    if (side) {
      const path = stripPrefix(unquote(side[1]!.replace(/\t.*$/, '')));
      if (path) files.add(path);
      continue;
    }
    const rename = /^(?:rename|copy) (?:from|to) (.+)$/.exec(line);
    if (rename) {
      files.add(unquote(rename[1]!));
      continue;
    }
    const binary = /^Binary files (.+) and (.+) differ$/.exec(line);
    if (binary) {
      for (const raw of [binary[1]!, binary[2]!]) {
        const path = stripPrefix(unquote(raw));
        if (path) {
          files.add(path);
          binaryFiles.add(path);
        }
      }
    }
  }
  return { changedLines, files: [...files], binaryFiles: [...binaryFiles] };
}

/** `a/x b/y`, `"a/x y" "b/x y"` → the two paths. */
function gitHeaderPaths(rest: string): string[] {
  const quoted = rest.match(/^"((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/);
  if (quoted)
    return [quoted[1]!, quoted[2]!].map((p) => stripPrefix(unescapeGit(p))).filter(Boolean) as string[];
  const plain = rest.match(/^(a\/.+) (b\/.+)$/);
  if (plain) return [plain[1]!, plain[2]!].map(stripPrefix).filter(Boolean) as string[];
  return [];
}

function unquote(path: string): string {
  const trimmed = path.trim();
  return trimmed.startsWith('"') && trimmed.endsWith('"') ? unescapeGit(trimmed.slice(1, -1)) : trimmed;
}

function unescapeGit(text: string): string {
  return text.replace(/\\(["\\tn])/g, (_, ch: string) => (ch === 't' ? '\t' : ch === 'n' ? '\n' : ch));
}

/** `a/src/x.js` → `src/x.js`; `/dev/null` → null. */
function stripPrefix(path: string): string | null {
  if (path === '/dev/null') return null;
  return path.replace(/^[ab]\//, '');
}

/** `./src//x.js` → `src/x.js`; a path that leaves the repository (`..`, absolute) → null. */
export function normalisePath(path: string): string | null {
  const trimmed = path.trim().replace(/\\/g, '/');
  if (!trimmed || trimmed.startsWith('/') || /^[A-Za-z]:/.test(trimmed)) return null;
  const parts = trimmed.split('/').filter((part) => part !== '' && part !== '.');
  if (!parts.length || parts.includes('..')) return null;
  return parts.join('/');
}

/** Whether `file` is `allowed` itself or lies under it, segment by segment (`src` covers `src/a`, not `srcx/a`). */
export function isUnder(file: string, allowed: string): boolean {
  const base = normalisePath(allowed);
  if (!base) return false;
  return file === base || file.startsWith(`${base}/`);
}

/** Dependency manifests and lockfiles of the common ecosystems, by file name (case-insensitive). */
const DEPENDENCY_FILES = new Set(
  [
    'package.json',
    'package-lock.json',
    'npm-shrinkwrap.json',
    'yarn.lock',
    '.yarnrc',
    '.yarnrc.yml',
    '.npmrc',
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
    'bun.lock',
    'bun.lockb',
    'deno.json',
    'deno.jsonc',
    'deno.lock',
    'pipfile',
    'pipfile.lock',
    'pyproject.toml',
    'poetry.lock',
    'uv.lock',
    'pdm.lock',
    'setup.py',
    'setup.cfg',
    'environment.yml',
    'go.mod',
    'go.sum',
    'go.work',
    'cargo.toml',
    'cargo.lock',
    'gemfile',
    'gemfile.lock',
    'composer.json',
    'composer.lock',
    'pom.xml',
    'build.gradle',
    'build.gradle.kts',
    'settings.gradle',
    'settings.gradle.kts',
    'gradle.lockfile',
    'packages.config',
    'directory.packages.props',
    'mix.exs',
    'mix.lock',
    'pubspec.yaml',
    'pubspec.lock',
    'package.swift',
    'package.resolved',
    'podfile',
    'podfile.lock',
    'vcpkg.json',
    'conanfile.txt',
    'conanfile.py',
  ].map((name) => name.toLowerCase()),
);

/** requirements.txt, requirements-dev.txt, requirements/base.txt; *.csproj and friends. */
function isDependencyFile(path: string): boolean {
  const segments = path.toLowerCase().split('/');
  const name = segments.at(-1)!;
  if (DEPENDENCY_FILES.has(name)) return true;
  if (/^requirements([-_.][\w.-]*)?\.(txt|in)$/.test(name)) return true;
  if (segments.includes('requirements') && /\.(txt|in)$/.test(name)) return true;
  return /\.(csproj|fsproj|vbproj|gemspec|nuspec|cabal)$/.test(name);
}

const CI_DIRS = new Set([
  '.github',
  '.gitea',
  '.forgejo',
  '.circleci',
  '.gitlab',
  '.buildkite',
  '.woodpecker',
]);
const CI_FILES = new Set([
  '.gitlab-ci.yml',
  'jenkinsfile',
  '.drone.yml',
  '.travis.yml',
  'azure-pipelines.yml',
  'bitbucket-pipelines.yml',
  '.woodpecker.yml',
  'cloudbuild.yaml',
  'cloudbuild.yml',
]);

function isCiFile(path: string): boolean {
  const segments = path.toLowerCase().split('/');
  return CI_DIRS.has(segments[0]!) || CI_FILES.has(segments.at(-1)!);
}

const MIGRATION_DIRS = new Set(['migrations', 'migration', 'migrate']);

function isMigration(path: string): boolean {
  const segments = path.toLowerCase().split('/');
  return segments.slice(0, -1).some((s) => MIGRATION_DIRS.has(s)) || segments.at(-1)!.endsWith('.sql');
}

/** Why a changed file always needs a person, or null when it may be approved automatically. */
export function riskOf(path: string): string | null {
  if (isDependencyFile(path)) return 'a dependency manifest or lockfile';
  if (isCiFile(path)) return 'a CI file';
  if (isMigration(path)) return 'a migration';
  return null;
}

const list = (items: string[], max = 5) =>
  items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ');

/**
 * The auto-approval rule. Approve only when all of these hold:
 *   1. the policy is enabled;
 *   2. the latest repair report says the tests passed;
 *   3. it carries a diff with at least one added or removed line, and added + removed lines
 *      ≤ max_changed_lines;
 *   4. every file (modified_files ∪ the diff's files) lies under one of allowed_paths
 *      (an empty list allows nothing);
 *   5. no file is a dependency manifest or lockfile, a CI file or a migration, and none is binary.
 * Anything else waits for a person; the reason says which rule failed first.
 */
export function evaluateAutoApproval(
  policy: AutoApprove,
  report: ReportForPolicy | null | undefined,
): AutoApprovalDecision {
  if (!policy.enabled) return { approve: false, reason: 'auto-approval is off for this project' };
  if (!report) return { approve: false, reason: 'there is no repair report' };
  if (report.test_passed !== true) {
    return {
      approve: false,
      reason:
        report.test_passed === false
          ? 'the tests failed in the latest repair report'
          : 'the latest repair report does not say the tests passed',
    };
  }
  if (!report.diff?.trim())
    return { approve: false, reason: 'the latest repair report has no diff to measure' };
  const summary = summariseDiff(report.diff);
  const files: string[] = [];
  for (const raw of new Set([...report.modified_files, ...summary.files])) {
    const path = normalisePath(raw);
    if (!path) return { approve: false, reason: `the file path "${raw}" leaves the repository` };
    if (!files.includes(path)) files.push(path);
  }
  const counted = { changed_lines: summary.changedLines, files };
  if (!files.length) return { approve: false, reason: 'the change names no files', ...counted };
  if (summary.changedLines === 0) {
    return { approve: false, reason: 'the diff shows no added or removed lines to measure', ...counted };
  }
  if (summary.binaryFiles.length) {
    return { approve: false, reason: `binary files changed (${list(summary.binaryFiles)})`, ...counted };
  }
  if (summary.changedLines > policy.max_changed_lines) {
    return {
      approve: false,
      reason: `${summary.changedLines} changed lines, more than the limit of ${policy.max_changed_lines}`,
      ...counted,
    };
  }
  if (!policy.allowed_paths.length) {
    return {
      approve: false,
      reason: 'no allowed paths are set, so no file may be approved automatically',
      ...counted,
    };
  }
  const outside = files.filter((file) => !policy.allowed_paths.some((allowed) => isUnder(file, allowed)));
  if (outside.length) {
    return {
      approve: false,
      reason: `${list(outside)} ${outside.length === 1 ? 'is' : 'are'} outside the allowed paths (${list(policy.allowed_paths)})`,
      ...counted,
    };
  }
  for (const file of files) {
    const risk = riskOf(file);
    if (risk)
      return { approve: false, reason: `${file} is ${risk}, which always needs a person`, ...counted };
  }
  return {
    approve: true,
    rule:
      `tests passed; ${summary.changedLines} changed line${summary.changedLines === 1 ? '' : 's'} ` +
      `(limit ${policy.max_changed_lines}); ${files.length} file${files.length === 1 ? '' : 's'} under ` +
      `${list(policy.allowed_paths)}; no dependency manifest, CI file or migration`,
    ...counted,
  };
}
