import type { ComponentChildren } from 'preact';
import { ApiError } from '../api/client';
import type { Messages } from '../i18n/zh';
import { useT } from '../state/store';

export function errorText(t: Messages, error: unknown): string {
  if (error instanceof ApiError) {
    const known = t.errors[error.code as keyof Messages['errors']];
    return known ?? error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function Loading({ label }: { label?: string }) {
  const t = useT();
  return (
    <p class="loading" role="status">
      {label ?? t.common.loading}
    </p>
  );
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT();
  return (
    <div class="notice error" role="alert">
      <span>{errorText(t, error)}</span>
      {onRetry && (
        <button type="button" class="button small" onClick={onRetry}>
          {t.common.retry}
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children}
    </div>
  );
}
