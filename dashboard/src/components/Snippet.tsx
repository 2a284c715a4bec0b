import { useSignal } from '@preact/signals';
import { useT } from '../state/store';

/** A copy-paste command. The text is rendered as text, whatever it contains. */
export function Snippet({ text }: { text: string }) {
  const t = useT();
  const copied = useSignal(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      copied.value = true;
      setTimeout(() => (copied.value = false), 1500);
    } catch {
      // Clipboard access can be refused (plain http, permissions); the text stays selectable.
    }
  };
  return (
    <div class="snippet">
      <pre>
        <code>{text}</code>
      </pre>
      <button type="button" class="button small" onClick={copy}>
        {copied.value ? t.common.copied : t.common.copy}
      </button>
    </div>
  );
}
