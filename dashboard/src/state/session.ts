import { signal } from '@preact/signals';

export const TOKEN_KEY = 'log-center.token';

export type SessionState = 'signed-out' | 'checking' | 'signed-in';
/** Why the login form is showing: the server refused the token, or a later call did. */
export type SignOutReason = 'invalid' | 'expired' | null;

export function createSession(storage: Storage) {
  const token = signal<string | null>(storage.getItem(TOKEN_KEY));
  const state = signal<SessionState>('signed-out');
  const reason = signal<SignOutReason>(null);

  function begin(value: string) {
    storage.setItem(TOKEN_KEY, value);
    token.value = value;
    reason.value = null;
    state.value = 'checking';
  }

  function end(why: SignOutReason) {
    storage.removeItem(TOKEN_KEY);
    token.value = null;
    reason.value = why;
    state.value = 'signed-out';
  }

  return { token, state, reason, begin, end, confirm: () => (state.value = 'signed-in') };
}

export type Session = ReturnType<typeof createSession>;

/**
 * The server prints `/?token=...` at start-up. The token is taken from the address bar and
 * removed from it at once, so it does not linger in history, bookmarks or screenshots.
 */
export function takeTokenFromUrl(win: Window): string | null {
  const url = new URL(win.location.href);
  const token = url.searchParams.get('token')?.trim();
  if (!url.searchParams.has('token')) return null;
  url.searchParams.delete('token');
  win.history.replaceState(win.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  return token || null;
}
