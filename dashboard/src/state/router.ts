import { computed, signal } from '@preact/signals';

export type Route =
  | { name: 'board' }
  | { name: 'bug'; id: number }
  | { name: 'stats' }
  | { name: 'projects' }
  | { name: 'project'; id: string }
  | { name: 'not_found' };

const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function matchRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [head, id, ...rest] = parts;
  if (rest.length) return { name: 'not_found' };
  if (!head && !id) return { name: 'board' };
  if (head === 'bugs' && id && /^\d+$/.test(id)) return { name: 'bug', id: Number(id) };
  if (head === 'stats' && !id) return { name: 'stats' };
  if (head === 'projects' && !id) return { name: 'projects' };
  if (head === 'projects' && id && PROJECT_ID.test(id)) return { name: 'project', id };
  return { name: 'not_found' };
}

/** Builds `path?query`, leaving out empty values so shared links stay short. */
export function hrefWith(path: string, params: Record<string, string | number | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  const search = query.toString();
  return search ? `${path}?${search}` : path;
}

/**
 * The URL is the state of what is on screen: filters live in the query string, so a link
 * can be shared and the back button undoes a filter change.
 */
export function createRouter(win: Window) {
  const location = signal({ pathname: win.location.pathname, search: win.location.search });
  const route = computed(() => matchRoute(location.value.pathname));
  const query = computed(() => new URLSearchParams(location.value.search));

  const sync = () => {
    location.value = { pathname: win.location.pathname, search: win.location.search };
  };
  win.addEventListener('popstate', sync);

  function navigate(href: string, { replace = false } = {}) {
    const target = new URL(href, win.location.href);
    if (target.pathname === win.location.pathname && target.search === win.location.search) return;
    const samePage = target.pathname === win.location.pathname;
    win.history[replace ? 'replaceState' : 'pushState'](null, '', `${target.pathname}${target.search}`);
    sync();
    if (!samePage) win.scrollTo?.(0, 0);
  }

  return {
    location,
    route,
    query,
    navigate,
    dispose: () => win.removeEventListener('popstate', sync),
  };
}

export type Router = ReturnType<typeof createRouter>;
