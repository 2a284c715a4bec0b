export type DiffLineKind = 'add' | 'del' | 'context' | 'note';

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
  oldLine: number | null;
  newLine: number | null;
}

export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}

export interface DiffFile {
  path: string;
  /** Set when the file was renamed, created (`/dev/null`) or deleted. */
  oldPath: string | null;
  additions: number;
  deletions: number;
  hunks: DiffHunk[];
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

const stripPrefix = (path: string) => {
  const clean = path.split('\t')[0]!.trim();
  return clean === '/dev/null' ? clean : clean.replace(/^[ab]\//, '');
};

/**
 * Reads the unified diff the repair agent attaches to its report (`git diff` output, one or
 * many files). Lenient on purpose: lines it does not understand outside a hunk are skipped,
 * so a truncated diff still renders what it has.
 */
export function parseUnifiedDiff(text: string | null | undefined): DiffFile[] {
  if (!text) return [];
  const files: DiffFile[] = [];
  // oldLeft/newLeft: lines the hunk header announced and not yet seen. A hunk ends when both
  // reach zero, which is how "--- a/next" after a hunk is told apart from a deleted "-- a/next".
  const state = {
    file: null as DiffFile | null,
    hunk: null as DiffHunk | null,
    oldLine: 0,
    newLine: 0,
    oldLeft: 0,
    newLeft: 0,
  };
  const startFile = (path: string): DiffFile => {
    const file: DiffFile = { path, oldPath: null, additions: 0, deletions: 0, hunks: [] };
    files.push(file);
    state.file = file;
    state.hunk = null;
    return file;
  };

  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (line.startsWith('diff --git ')) {
      const match = /^diff --git a\/(.+?) b\/(.+)$/.exec(line);
      startFile(match ? match[2]! : line.slice('diff --git '.length));
      continue;
    }
    // File headers only count outside a hunk: inside one, "--- x" is a deleted line "-- x".
    if (line.startsWith('--- ') && !state.hunk) {
      const file = state.file && !state.file.hunks.length ? state.file : startFile('');
      file.oldPath = stripPrefix(line.slice(4));
      continue;
    }
    if (line.startsWith('+++ ') && state.file && !state.hunk) {
      const file = state.file;
      const newPath = stripPrefix(line.slice(4));
      file.path = newPath === '/dev/null' ? (file.oldPath ?? file.path) : newPath;
      if (file.oldPath === file.path) file.oldPath = null;
      continue;
    }
    const header = HUNK.exec(line);
    if (header) {
      const file = state.file ?? startFile('');
      state.oldLine = Number(header[1]);
      state.oldLeft = header[2] === undefined ? 1 : Number(header[2]);
      state.newLine = Number(header[3]);
      state.newLeft = header[4] === undefined ? 1 : Number(header[4]);
      state.hunk = { header: line, lines: [] };
      file.hunks.push(state.hunk);
      continue;
    }
    // "\ No newline at end of file" follows the hunk's last line, after the hunk closed.
    const lastHunk = state.file?.hunks.at(-1);
    if (line.startsWith('\\') && lastHunk) {
      lastHunk.lines.push({ kind: 'note', text: line, oldLine: null, newLine: null });
      continue;
    }
    const { file, hunk } = state;
    if (!file || !hunk) continue;
    if (line.startsWith('+')) {
      hunk.lines.push({ kind: 'add', text: line.slice(1), oldLine: null, newLine: state.newLine++ });
      file.additions++;
      state.newLeft--;
    } else if (line.startsWith('-')) {
      hunk.lines.push({ kind: 'del', text: line.slice(1), oldLine: state.oldLine++, newLine: null });
      file.deletions++;
      state.oldLeft--;
    } else if (line.startsWith(' ') || line === '') {
      // Some tools strip the trailing space of empty context lines.
      if (line === '' && state.oldLeft <= 0 && state.newLeft <= 0) continue;
      hunk.lines.push({
        kind: 'context',
        text: line.slice(1),
        oldLine: state.oldLine++,
        newLine: state.newLine++,
      });
      state.oldLeft--;
      state.newLeft--;
    } else {
      state.hunk = null;
      continue;
    }
    if (state.oldLeft <= 0 && state.newLeft <= 0) state.hunk = null;
  }
  return files.filter((f) => f.path || f.hunks.length);
}

export interface FileChange {
  path: string;
  additions: number | null;
  deletions: number | null;
}

/**
 * The report lists modified files and carries a diff; the diff may be truncated or missing,
 * so files it does not cover have unknown counts rather than zero.
 */
export function fileChanges(modifiedFiles: readonly string[], files: readonly DiffFile[]): FileChange[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const listed = modifiedFiles.map((path) => {
    const diff = byPath.get(path);
    byPath.delete(path);
    return { path, additions: diff?.additions ?? null, deletions: diff?.deletions ?? null };
  });
  const extra = [...byPath.values()].map((f) => ({
    path: f.path,
    additions: f.additions,
    deletions: f.deletions,
  }));
  return [...listed, ...extra];
}
