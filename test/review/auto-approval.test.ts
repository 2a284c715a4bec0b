import { describe, expect, it } from 'vitest';
import {
  type AutoApprove,
  evaluateAutoApproval,
  isUnder,
  normalisePath,
  type ReportForPolicy,
  riskOf,
  summariseDiff,
} from '../../functions/services/review-policy';
import { activityEventually, bugDetail, callsFor, pendingBug, smallDiff, useReviewSuite } from './support';

/** A git diff of one file with `added` new lines and `removed` old ones. */
function diffOf(path: string, added: number, removed = 0): string {
  const lines = [
    `diff --git a/${path} b/${path}`,
    'index 1111111..2222222 100644',
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -1,${removed + 1} +1,${added + 1} @@`,
    ' context',
    ...Array.from({ length: removed }, (_, i) => `-old ${i}`),
    ...Array.from({ length: added }, (_, i) => `+new ${i}`),
  ];
  return `${lines.join('\n')}\n`;
}

const on: AutoApprove = { enabled: true, max_changed_lines: 20, allowed_paths: ['src'], merge: false };
const passing = (diff: string, files: string[] = []): ReportForPolicy => ({
  test_passed: true,
  modified_files: files,
  diff,
});

describe('the auto-approval rule, rule by rule', () => {
  it('approves a small tested change under an allowed path, naming the rule', () => {
    const decision = evaluateAutoApproval(on, passing(diffOf('src/cart.js', 2, 1), ['src/cart.js']));
    expect(decision).toEqual({
      approve: true,
      rule: 'tests passed; 3 changed lines (limit 20); 1 file under src; no dependency manifest, CI file or migration',
      changed_lines: 3,
      files: ['src/cart.js'],
    });
  });

  it('1. off by default and when disabled', () => {
    expect(evaluateAutoApproval({ ...on, enabled: false }, passing(smallDiff))).toMatchObject({
      approve: false,
      reason: 'auto-approval is off for this project',
    });
  });

  it('2. the tests must have passed (false, unknown, or no report at all)', () => {
    expect(evaluateAutoApproval(on, { ...passing(smallDiff), test_passed: false })).toMatchObject({
      approve: false,
      reason: 'the tests failed in the latest repair report',
    });
    expect(evaluateAutoApproval(on, { ...passing(smallDiff), test_passed: null })).toMatchObject({
      approve: false,
      reason: 'the latest repair report does not say the tests passed',
    });
    expect(evaluateAutoApproval(on, null)).toMatchObject({
      approve: false,
      reason: 'there is no repair report',
    });
  });

  it('3. a diff to measure, within max_changed_lines (added + removed; the limit itself allowed)', () => {
    expect(evaluateAutoApproval(on, { ...passing(''), diff: null })).toMatchObject({
      reason: 'the latest repair report has no diff to measure',
    });
    expect(evaluateAutoApproval(on, passing(diffOf('src/a.js', 15, 5))).approve).toBe(true);
    expect(evaluateAutoApproval(on, passing(diffOf('src/a.js', 15, 6)))).toMatchObject({
      approve: false,
      reason: '21 changed lines, more than the limit of 20',
      changed_lines: 21,
    });
    expect(
      evaluateAutoApproval({ ...on, max_changed_lines: 0 }, passing(diffOf('src/a.js', 1))),
    ).toMatchObject({
      reason: '1 changed lines, more than the limit of 0',
    });
    // A mode change alone has no lines to measure: a person looks at it.
    const modeOnly = 'diff --git a/src/run.sh b/src/run.sh\nold mode 100644\nnew mode 100755\n';
    expect(evaluateAutoApproval(on, passing(modeOnly))).toMatchObject({
      reason: 'the diff shows no added or removed lines to measure',
    });
  });

  it('4. every file under an allowed path, matched segment by segment; an empty list allows none', () => {
    expect(evaluateAutoApproval({ ...on, allowed_paths: [] }, passing(smallDiff))).toMatchObject({
      reason: 'no allowed paths are set, so no file may be approved automatically',
    });
    // modified_files counts too, not only the diff's files.
    expect(evaluateAutoApproval(on, passing(diffOf('src/a.js', 1), ['lib/b.js']))).toMatchObject({
      reason: 'lib/b.js is outside the allowed paths (src)',
    });
    expect(evaluateAutoApproval(on, passing(diffOf('srcx/a.js', 1)))).toMatchObject({
      reason: 'srcx/a.js is outside the allowed paths (src)',
    });
    expect(
      evaluateAutoApproval({ ...on, allowed_paths: ['./src/'] }, passing(diffOf('src/a.js', 1))).approve,
    ).toBe(true);
    expect(
      evaluateAutoApproval(
        { ...on, allowed_paths: ['docs', 'src/cart.js'] },
        passing(diffOf('src/cart.js', 1)),
      ).approve,
    ).toBe(true);
    expect(evaluateAutoApproval(on, passing(diffOf('src/a.js', 1), ['src/../secrets.txt']))).toMatchObject({
      reason: 'the file path "src/../secrets.txt" leaves the repository',
    });
    expect(evaluateAutoApproval(on, passing(diffOf('src/a.js', 1), ['/etc/passwd'])).approve).toBe(false);
  });

  it('5. dependency manifests and lockfiles always need a person, wherever they are', () => {
    const everywhere: AutoApprove = { ...on, allowed_paths: ['src', 'services', 'requirements', 'app'] };
    for (const file of [
      'src/package.json',
      'services/api/package-lock.json',
      'src/yarn.lock',
      'src/pnpm-lock.yaml',
      'src/requirements.txt',
      'src/requirements-dev.txt',
      'requirements/base.txt',
      'src/pyproject.toml',
      'src/poetry.lock',
      'src/go.mod',
      'src/go.sum',
      'src/Cargo.toml',
      'src/Cargo.lock',
      'src/Gemfile.lock',
      'src/composer.json',
      'src/pom.xml',
      'src/build.gradle.kts',
      'app/App.csproj',
    ]) {
      const decision = evaluateAutoApproval(everywhere, passing(diffOf(file, 1)));
      expect(decision, file).toMatchObject({
        approve: false,
        reason: `${file} is a dependency manifest or lockfile, which always needs a person`,
      });
    }
  });

  it('5. CI files always need a person', () => {
    const all: AutoApprove = {
      ...on,
      allowed_paths: ['.github', '.gitea', '.circleci', 'src', '.gitlab-ci.yml', 'Jenkinsfile', '.drone.yml'],
    };
    for (const file of [
      '.github/workflows/ci.yml',
      '.gitea/workflows/deploy.yaml',
      '.circleci/config.yml',
      '.gitlab-ci.yml',
      'Jenkinsfile',
      'src/Jenkinsfile',
      '.drone.yml',
    ]) {
      expect(evaluateAutoApproval(all, passing(diffOf(file, 1))), file).toMatchObject({
        reason: `${file} is a CI file, which always needs a person`,
      });
    }
  });

  it('5. migrations always need a person: a migrations/migration/migrate folder, or any .sql file', () => {
    const all: AutoApprove = { ...on, allowed_paths: ['src', 'db'] };
    for (const file of [
      'src/migrations/0001_init.py',
      'db/migration/V2__users.java',
      'db/migrate/20240101_add_index.rb',
      'src/queries/report.sql',
      'src/Migrations/Up.cs',
    ]) {
      expect(evaluateAutoApproval(all, passing(diffOf(file, 1))), file).toMatchObject({
        reason: `${file} is a migration, which always needs a person`,
      });
    }
    // A file merely named like one is not a migration folder.
    expect(riskOf('src/migrate.js')).toBeNull();
    expect(riskOf('src/migrations.md')).toBeNull();
  });

  it('5. binary files always need a person', () => {
    const diff =
      'diff --git a/src/logo.png b/src/logo.png\nindex 1..2 100644\nBinary files a/src/logo.png and b/src/logo.png differ\n';
    expect(evaluateAutoApproval(on, passing(`${diffOf('src/a.js', 1)}${diff}`))).toMatchObject({
      reason: 'binary files changed (src/logo.png)',
    });
  });
});

describe('reading a diff', () => {
  it('counts lines inside hunks only: "--- " and "+++ " inside a hunk are changes, not headers', () => {
    const diff = [
      'diff --git a/src/q.sql.js b/src/q.sql.js',
      '--- a/src/q.sql.js',
      '+++ b/src/q.sql.js',
      '@@ -1,2 +1,2 @@',
      '--- a removed SQL comment',
      '+++ an added line that starts with ++',
      ' same',
      '\\ No newline at end of file',
    ].join('\n');
    expect(summariseDiff(diff)).toEqual({ changedLines: 2, files: ['src/q.sql.js'], binaryFiles: [] });
  });

  it('reads several files, renames, new and deleted files, and quoted names', () => {
    const diff = [
      'diff --git a/src/old.js b/src/new.js',
      'similarity index 90%',
      'rename from src/old.js',
      'rename to src/new.js',
      '--- a/src/old.js',
      '+++ b/src/new.js',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      'diff --git a/src/added.js b/src/added.js',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/src/added.js',
      '@@ -0,0 +1,2 @@',
      '+one',
      '+two',
      'diff --git "a/src/with space.js" "b/src/with space.js"',
      'deleted file mode 100644',
      '--- "a/src/with space.js"',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-gone',
    ].join('\n');
    const summary = summariseDiff(diff);
    expect(summary.changedLines).toBe(5);
    expect(summary.files.sort()).toEqual(['src/added.js', 'src/new.js', 'src/old.js', 'src/with space.js']);
  });

  it('paths: normalised, and "under" means whole segments', () => {
    expect(normalisePath('./src//a.js')).toBe('src/a.js');
    expect(normalisePath('src\\win\\a.js')).toBe('src/win/a.js');
    expect(normalisePath('../a.js')).toBeNull();
    expect(normalisePath('/abs.js')).toBeNull();
    expect(normalisePath('C:/x.js')).toBeNull();
    expect(isUnder('src/a.js', 'src')).toBe(true);
    expect(isUnder('src/a.js', 'src/')).toBe(true);
    expect(isUnder('srcx/a.js', 'src')).toBe(false);
    expect(isUnder('src', 'src')).toBe(true);
    expect(isUnder('src/a.js', '..')).toBe(false);
  });
});

describe('auto-approval end to end', () => {
  const suite = useReviewSuite();

  it('approves and merges a small tested change on entering review; the merge webhook makes it MERGED', async () => {
    const bug = await pendingBug(suite, {
      project: {
        review_settings: {
          merge_style: 'squash',
          auto_approve: { enabled: true, max_changed_lines: 5, allowed_paths: ['src'], merge: true },
        },
      },
    });
    const rows = await activityEventually(suite.lc, bug.id, (r) =>
      r.some((a) => a.kind === 'merge_requested'),
    );
    const rule =
      'tests passed; 1 changed line (limit 5); 1 file under src; no dependency manifest, CI file or migration';
    expect(rows.filter((r) => r.actor === 'policy')).toMatchObject([
      {
        kind: 'auto_approved',
        body: rule,
        data: { rule, changed_lines: 1, files: ['src/cart.js'], pr_number: bug.pr },
      },
      { kind: 'merge_requested', data: { merge_style: 'squash' } },
    ]);
    const pull = suite.gitea.pull(bug.owner, bug.repo, bug.pr)!;
    expect(pull.reviews).toMatchObject([
      { state: 'APPROVED', body: `Approved automatically by Log Center: ${rule}.` },
    ]);
    expect(pull.merge_style).toBe('squash');
    await suite.gitea.settled();
    expect((await bugDetail(suite.lc, bug.id)).status).toBe('MERGED');
  });

  it('approves without merging when merge is off', async () => {
    const bug = await pendingBug(suite, {
      project: { review_settings: { auto_approve: { enabled: true, allowed_paths: ['src'] } } },
    });
    const rows = await activityEventually(suite.lc, bug.id, (r) => r.some((a) => a.kind === 'auto_approved'));
    expect(rows.some((r) => r.kind === 'merge_requested')).toBe(false);
    expect(callsFor(suite.gitea, bug)).toEqual([`POST /pulls/${bug.pr}/reviews`]);
    await suite.gitea.settled();
    expect((await bugDetail(suite.lc, bug.id)).status).toBe('PENDING_REVIEW');
  });

  it('outside the rule: recorded as skipped with the reason, Gitea untouched, waiting for a person', async () => {
    const bug = await pendingBug(suite, {
      project: { review_settings: { auto_approve: { enabled: true, allowed_paths: ['src'], merge: true } } },
      report: {
        modified_files: ['src/cart.js', 'package.json'],
        diff: `${smallDiff}${diffOf('package.json', 1)}`,
      },
    });
    const rows = await activityEventually(suite.lc, bug.id, (r) => r.length > 0);
    expect(rows).toMatchObject([
      {
        kind: 'auto_approval_skipped',
        actor: 'policy',
        body: 'package.json is outside the allowed paths (src)',
        data: { changed_lines: 2, files: ['src/cart.js', 'package.json'] },
      },
    ]);
    expect(callsFor(suite.gitea, bug)).toEqual([]);
  });

  it('failed tests: skipped', async () => {
    const bug = await pendingBug(suite, {
      project: { review_settings: { auto_approve: { enabled: true, allowed_paths: ['src'] } } },
      report: { test_passed: false },
    });
    const rows = await activityEventually(suite.lc, bug.id, (r) => r.length > 0);
    expect(rows[0]).toMatchObject({
      kind: 'auto_approval_skipped',
      body: 'the tests failed in the latest repair report',
    });
  });

  it("Gitea refusing the approval is recorded as skipped with Gitea's reason", async () => {
    // The PR was opened by the token's own user: Gitea refuses to let anyone approve their own PR.
    const bug = await pendingBug(suite, {
      project: { review_settings: { auto_approve: { enabled: true, allowed_paths: ['src'], merge: true } } },
      pull: { poster: suite.gitea.login },
    });
    const rows = await activityEventually(suite.lc, bug.id, (r) => r.length > 0);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.kind).toBe('auto_approval_skipped');
    expect(rows[0]!.body).toMatch(
      /^the policy allowed it \(tests passed; .*\), but Gitea refused the review \(422\): approve your own pull is not allowed$/,
    );
    expect(suite.gitea.pull(bug.owner, bug.repo, bug.pr)!.merged).toBe(false);
  });

  it('the merge refused after an approval: approved, and the merge waits for a person', async () => {
    const bug = await pendingBug(suite, {
      project: { review_settings: { auto_approve: { enabled: true, allowed_paths: ['src'], merge: true } } },
      pull: { conflict: true },
    });
    const rows = await activityEventually(suite.lc, bug.id, (r) =>
      r.some((a) => a.kind === 'auto_approval_skipped'),
    );
    expect(rows.filter((r) => r.actor === 'policy').map((r) => [r.kind, r.body])).toEqual([
      ['auto_approved', expect.stringMatching(/^tests passed/)],
      [
        'auto_approval_skipped',
        'approved, but the merge waits for a person: Gitea refused the merge (409): merge failed because of conflict',
      ],
    ]);
  });
});
