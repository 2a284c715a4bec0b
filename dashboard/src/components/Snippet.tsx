import { useSignal } from '@preact/signals';
import { useRef } from 'preact/hooks';
import { useT } from '../state/store';

/** A copy-paste command. The text is rendered as text, whatever it contains. */
export function Snippet({ text, testId }: { text: string; testId?: string }) {
  const t = useT();
  const state = useSignal<'copy' | 'copied' | 'selected'>('copy');
  const code = useRef<HTMLElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      state.value = 'copied';
    } catch {
      // No clipboard (plain http is not a secure context) or access refused: select the text,
      // so Ctrl+C copies it.
      if (code.current) getSelection()?.selectAllChildren(code.current);
      state.value = 'selected';
    }
    setTimeout(() => (state.value = 'copy'), 2000);
  };
  return (
    <div class="snippet" data-testid={testId}>
      <pre>
        <code ref={code}>{text}</code>
      </pre>
      <button type="button" class="button small" onClick={copy}>
        {t.common[state.value]}
      </button>
    </div>
  );
}
