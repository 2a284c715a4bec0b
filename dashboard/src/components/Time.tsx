import { formatDateTime, relativeTime } from '../lib/time';
import { useStore } from '../state/store';

/** "2 hours ago", with the exact local time on hover. */
export function RelativeTime({ iso }: { iso: string }) {
  const { now, i18n } = useStore();
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relativeTime(iso, now.value, i18n.locale.value)}
    </time>
  );
}

export function DateTime({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return <time dateTime={iso}>{formatDateTime(iso)}</time>;
}
