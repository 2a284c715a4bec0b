import { effect, signal, untracked } from '@preact/signals';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { createApi, isUnauthorized } from '../api/client';
import { createBatchModel } from './batch';
import { createBoardModel } from './board';
import { createBugModel } from './bug';
import { createI18n } from './i18n';
import { createNotificationsModel } from './notifications';
import { createProjectEditor, createProjectsModel } from './projects';
import { createReviewModel } from './review';
import { createRouter } from './router';
import { createSession, takeTokenFromUrl } from './session';
import { createStatsModel } from './stats';

/**
 * How often an open dashboard reads what may have changed without the person doing anything:
 * relative times and the message centre's unread count.
 */
export const REFRESH_MS = 60_000;

export interface StoreEnv {
  window: Window;
  storage: Storage;
  /** API origin; empty for the page's own origin. */
  apiBase: string;
  fetch?: typeof fetch;
  /** The visitor's preferred languages; `window.navigator.languages` unless given. */
  languages?: readonly string[];
}

/**
 * Every model of the app, created once and provided through context. Components read the
 * signals and call actions; the store decides what to load when the page changes.
 */
export function createStore(env: StoreEnv) {
  const i18n = createI18n(env.storage, env.languages ?? env.window.navigator.languages);
  const router = createRouter(env.window);
  const session = createSession(env.storage);
  const api = createApi({
    baseUrl: env.apiBase,
    token: () => session.token.peek(),
    onUnauthorized: () => signOut('expired'),
    fetch: env.fetch,
  });
  const projects = createProjectsModel(api);
  const board = createBoardModel(api, router);
  const bug = createBugModel(api);
  const stats = createStatsModel(api, router);
  const editor = createProjectEditor(api, projects);
  const review = createReviewModel(api, bug, projects);
  const batch = createBatchModel(api, board);
  const notifications = createNotificationsModel(api);

  /** Ticks every minute so "5 minutes ago" stays true while the page is open. */
  const now = signal(Date.now());

  function resetData() {
    projects.reset();
    board.reset();
    bug.reset();
    stats.reset();
    editor.reset();
    review.reset();
    batch.reset();
    notifications.reset();
  }

  function signOut(reason: 'invalid' | 'expired' | null = null) {
    // Drop everything the old token fetched: nothing of it may show on the login screen.
    resetData();
    session.end(reason);
  }

  /** Checks the token with a real call (the project list, which every page needs anyway). */
  async function signIn(token: string) {
    const value = token.trim();
    if (!value) return;
    resetData();
    session.begin(value);
    try {
      await projects.load();
    } catch (error) {
      if (isUnauthorized(error)) {
        signOut('invalid');
        return;
      }
      // The server may be briefly unreachable; the pages show that and offer to retry.
    }
    if (session.token.peek() === value) session.confirm();
  }

  function loadRoute() {
    const route = router.route.value;
    const query = router.query.value;
    if (session.state.value !== 'signed-in') return;
    untracked(() => {
      // The message list is a menu: following one of its links closes it.
      notifications.close();
      switch (route.name) {
        case 'board':
          void board.load(query);
          break;
        case 'bug':
          if (bug.id.value !== route.id) review.reset();
          void bug.load(route.id);
          break;
        case 'stats':
          void stats.load(query);
          break;
        case 'project':
          // Coming back to a form with unsaved changes keeps them; otherwise show fresh data.
          if (editor.id.value !== route.id || !editor.dirty.value) void editor.open(route.id);
          break;
        case 'projects':
          void projects.reload();
          break;
      }
    });
  }

  const disposers: (() => void)[] = [];

  function start() {
    const fromUrl = takeTokenFromUrl(env.window);
    router.location.value = { pathname: env.window.location.pathname, search: env.window.location.search };
    const token = fromUrl ?? session.token.peek();
    if (token) void signIn(token);
    disposers.push(effect(loadRoute));
    disposers.push(
      effect(() => {
        if (session.state.value === 'signed-in') untracked(() => void notifications.refresh());
      }),
    );
    const timer = setInterval(() => {
      now.value = Date.now();
      if (session.state.peek() === 'signed-in') void notifications.refresh();
    }, REFRESH_MS);
    disposers.push(() => clearInterval(timer), router.dispose);
  }

  return {
    env,
    i18n,
    router,
    session,
    api,
    projects,
    board,
    bug,
    stats,
    editor,
    review,
    batch,
    notifications,
    now,
    signIn,
    signOut,
    start,
    dispose: () => {
      for (const dispose of disposers.splice(0)) dispose();
    },
  };
}

export type Store = ReturnType<typeof createStore>;

export const StoreContext = createContext<Store | null>(null);

export function useStore(): Store {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStore needs a <StoreContext.Provider>');
  return store;
}

/** The dictionary of the current language; re-renders the caller when it changes. */
export const useT = () => useStore().i18n.t.value;
