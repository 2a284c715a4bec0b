import type { DiffFile, DiffLine } from '../lib/diff';
import { useT } from '../state/store';

const SIGNS: Record<DiffLine['kind'], string> = { add: '+', del: '-', context: ' ', note: '' };

/** Diff text from the repair report, drawn as a diff; every line is rendered as text. */
export function DiffView({ files, previewLines }: { files: DiffFile[]; previewLines: number | null }) {
  const t = useT();
  return (
    <div class="diff">
      {files.map((file) => {
        let budget = previewLines ?? Number.POSITIVE_INFINITY;
        const total = file.hunks.reduce((sum, h) => sum + h.lines.length, 0);
        const shown = Math.min(total, budget);
        return (
          <section class="diff-file" key={file.path}>
            <header class="diff-file-name">
              <span class="mono">
                {file.oldPath && file.oldPath !== '/dev/null' ? `${file.oldPath} → ` : ''}
              </span>
              <span class="mono">{file.path}</span>
              <span class="diff-count add">+{file.additions}</span>
              <span class="diff-count del">-{file.deletions}</span>
            </header>
            <table class="diff-table">
              <tbody>
                {file.hunks.map((hunk, h) => {
                  if (budget <= 0) return null;
                  const lines = hunk.lines.slice(0, budget);
                  budget -= lines.length;
                  return [
                    <tr class="diff-hunk" key={`h${h}`}>
                      <td colSpan={4}>{hunk.header}</td>
                    </tr>,
                    ...lines.map((line, i) => (
                      <tr class={`diff-line ${line.kind}`} key={`${h}-${i}`}>
                        <td class="ln">{line.oldLine ?? ''}</td>
                        <td class="ln">{line.newLine ?? ''}</td>
                        <td class="sign">{SIGNS[line.kind]}</td>
                        <td class="code">{line.text}</td>
                      </tr>
                    )),
                  ];
                })}
              </tbody>
            </table>
            {shown < total && <p class="muted small">{t.bug.diffMore(total - shown)}</p>}
          </section>
        );
      })}
    </div>
  );
}
