import { signal } from '@preact/signals';
import type { Api } from '../api/client';
import type { Notification } from '../api/review';

export const MESSAGES_PAGE_SIZE = 20;

/**
 * The message centre: the unread count in the header, read on the dashboard's refresh
 * cadence, and the latest messages when the person opens the list.
 */
export function createNotificationsModel(api: Api) {
  const unread = signal<number | null>(null);
  const items = signal<Notification[] | null>(null);
  const total = signal(0);
  const open = signal(false);
  const loading = signal(false);
  const error = signal<unknown>(null);
  const marking = signal(false);

  let latest = 0;

  /** The badge. A server without the message centre leaves the badge out, nothing more. */
  async function refresh() {
    const ticket = ++latest;
    try {
      const page = await api.notifications({ unread: 'true', per_page: '1' });
      if (ticket === latest) unread.value = page.unread_count;
    } catch {
      if (ticket === latest) unread.value = null;
    }
  }

  async function loadList() {
    const ticket = ++latest;
    loading.value = true;
    error.value = null;
    try {
      const page = await api.notifications({ page: '1', per_page: String(MESSAGES_PAGE_SIZE) });
      if (ticket !== latest) return;
      items.value = page.items;
      total.value = page.pagination.total;
      unread.value = page.unread_count;
    } catch (cause) {
      if (ticket === latest) error.value = cause;
    } finally {
      if (ticket === latest) loading.value = false;
    }
  }

  function toggle() {
    open.value = !open.value;
    if (open.value) void loadList();
  }

  async function markRead(body: { ids: number[] } | { all: true }) {
    if (marking.value) return;
    marking.value = true;
    error.value = null;
    try {
      const answer = await api.markRead(body);
      latest++;
      unread.value = answer.unread_count;
      const now = new Date().toISOString();
      const ids = 'ids' in body ? new Set(body.ids) : null;
      items.value =
        items.value?.map((n) => (n.read_at || (ids && !ids.has(n.id)) ? n : { ...n, read_at: now })) ?? null;
    } catch (cause) {
      error.value = cause;
    } finally {
      marking.value = false;
    }
  }

  function reset() {
    latest++;
    unread.value = null;
    items.value = null;
    total.value = 0;
    open.value = false;
    loading.value = false;
    error.value = null;
    marking.value = false;
  }

  return {
    unread,
    items,
    total,
    open,
    loading,
    error,
    marking,
    refresh,
    loadList,
    toggle,
    close: () => (open.value = false),
    markRead,
    markAll: () => markRead({ all: true }),
    reset,
  };
}

export type NotificationsModel = ReturnType<typeof createNotificationsModel>;
