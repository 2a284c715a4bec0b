import { useT } from '../state/store';

const STATUS_ICONS: Record<string, string> = {
  NEW: '🆕',
  FIXING: '🔧',
  PENDING_REVIEW: '🟡',
  MERGED: '✅',
  DEPLOYED: '🚀',
  FAILED: '❌',
  IGNORED: '🔕',
};

export const statusIcon = (status: string) => STATUS_ICONS[status] ?? '•';

export function StatusBadge({ status }: { status: string }) {
  const t = useT();
  const label = t.status[status as keyof typeof t.status] ?? status;
  return (
    <span class={`badge status status-${status.toLowerCase()}`} title={status}>
      <span aria-hidden="true">{statusIcon(status)} </span>
      {label}
    </span>
  );
}

export function SourceBadge({ source }: { source: string }) {
  const t = useT();
  return (
    <span class={`badge source source-${source}`}>{t.source[source as keyof typeof t.source] ?? source}</span>
  );
}

export function LevelBadge({ level }: { level: string }) {
  return <span class={`badge level level-${level.toLowerCase()}`}>{level}</span>;
}
