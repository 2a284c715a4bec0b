import { describe, expect, it } from 'vitest';
import { fileChanges, parseUnifiedDiff } from './diff';

const gitDiff = `diff --git a/app/views.py b/app/views.py
index 3b18e51..a9c2f4e 100644
--- a/app/views.py
+++ b/app/views.py
@@ -23,3 +23,4 @@ def user_login(request):
 def user_login(request):
-    for item in request.user:
+    if request.user is not None:
+        for item in request.user:
         # ... rest of code
diff --git a/tests/test_views.py b/tests/test_views.py
new file mode 100644
--- /dev/null
+++ b/tests/test_views.py
@@ -0,0 +1,2 @@
+def test_login_without_user():
+    assert True
\\ No newline at end of file
`;

describe('parseUnifiedDiff', () => {
  it('reads files, counts and line numbers from git diff output', () => {
    const [views, tests] = parseUnifiedDiff(gitDiff);
    expect(views).toMatchObject({ path: 'app/views.py', oldPath: null, additions: 2, deletions: 1 });
    expect(views!.hunks[0]!.lines.map((l) => [l.kind, l.oldLine, l.newLine])).toEqual([
      ['context', 23, 23],
      ['del', 24, null],
      ['add', null, 24],
      ['add', null, 25],
      ['context', 25, 26],
    ]);
    expect(tests).toMatchObject({
      path: 'tests/test_views.py',
      oldPath: '/dev/null',
      additions: 2,
      deletions: 0,
    });
    expect(tests!.hunks[0]!.lines.at(-1)).toMatchObject({
      kind: 'note',
      text: '\\ No newline at end of file',
    });
  });

  it('keeps a deleted line that looks like a file header inside a hunk', () => {
    const [file] = parseUnifiedDiff('--- a/x.sql\n+++ b/x.sql\n@@ -1,2 +1,1 @@\n--- old comment\n keep\n');
    expect(file!.deletions).toBe(1);
    expect(file!.hunks[0]!.lines[0]).toMatchObject({ kind: 'del', text: '-- old comment' });
  });

  it('splits a plain multi-file diff without git headers', () => {
    const files = parseUnifiedDiff(
      '--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n--- a/b.py\n+++ b/b.py\n@@ -1 +1 @@\n-p\n+q\n',
    );
    expect(files.map((f) => [f.path, f.additions, f.deletions])).toEqual([
      ['a.py', 1, 1],
      ['b.py', 1, 1],
    ]);
  });

  it('returns nothing for an empty or missing diff', () => {
    expect(parseUnifiedDiff(null)).toEqual([]);
    expect(parseUnifiedDiff('not a diff at all')).toEqual([]);
  });
});

describe('fileChanges', () => {
  it('gives counts for files in the diff and unknown counts for files it does not cover', () => {
    const files = parseUnifiedDiff(gitDiff);
    expect(fileChanges(['app/views.py', 'app/models.py'], files)).toEqual([
      { path: 'app/views.py', additions: 2, deletions: 1 },
      { path: 'app/models.py', additions: null, deletions: null },
      { path: 'tests/test_views.py', additions: 2, deletions: 0 },
    ]);
  });
});
