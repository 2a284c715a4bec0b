import { lazy } from './components/Lazy';
import { Link } from './components/Link';
import { BoardPage } from './pages/BoardPage';
import { BugPage } from './pages/BugPage';
import { LoginPage } from './pages/LoginPage';
import { type Store, StoreContext, useStore, useT } from './state/store';

// The board and a bug are what a person opens first; the other pages are chunks of their own,
// fetched on first visit, so the first load stays small.
const StatsPage = lazy(() => import('./pages/StatsPage').then((m) => m.StatsPage));
const ProjectsPage = lazy(() => import('./pages/ProjectsPage').then((m) => m.ProjectsPage));
const ProjectEditPage = lazy(() => import('./pages/ProjectEditPage').then((m) => m.ProjectEditPage));
const MessageList = lazy(() => import('./components/MessageList').then((m) => m.MessageList));

/** The message centre's button with the unread count; the list opens under the header. */
function MessagesButton() {
  const { notifications } = useStore();
  const t = useT();
  const unread = notifications.unread.value;
  // A server without the message centre answers nothing to count: no button then.
  if (unread === null) return null;
  return (
    <button
      type="button"
      class="button ghost small messages-button"
      aria-expanded={notifications.open.value}
      aria-label={t.messages.button(unread)}
      onClick={() => notifications.toggle()}
    >
      <span aria-hidden="true">🔔</span>
      {unread > 0 && (
        <span class="unread-count" data-testid="unread-count" aria-hidden="true">
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </button>
  );
}

function Page() {
  const { router } = useStore();
  const t = useT();
  const route = router.route.value;
  switch (route.name) {
    case 'board':
      return <BoardPage />;
    case 'bug':
      return <BugPage />;
    case 'stats':
      return <StatsPage />;
    case 'projects':
      return <ProjectsPage />;
    case 'project':
      return <ProjectEditPage />;
    default:
      return (
        <section class="panel">
          <h1>{t.common.notFound}</h1>
          <Link href="/">{t.nav.board}</Link>
        </section>
      );
  }
}

function Header() {
  const { router, i18n, session, signOut } = useStore();
  const t = useT();
  const route = router.route.value.name;
  const section = route === 'bug' ? 'board' : route === 'project' ? 'projects' : route;
  const signedIn = session.state.value === 'signed-in';
  const item = (name: string, href: string, label: string) => (
    <Link
      href={href}
      class={section === name ? 'nav-link active' : 'nav-link'}
      aria-current={section === name ? 'page' : undefined}
    >
      {label}
    </Link>
  );
  return (
    <header class="topbar">
      <span class="brand">Log Center</span>
      {signedIn && (
        <nav class="nav" aria-label={t.nav.label}>
          {item('board', '/', t.nav.board)}
          {item('stats', '/stats', t.nav.stats)}
          {item('projects', '/projects', t.nav.projects)}
        </nav>
      )}
      <span class="spacer" />
      {signedIn && <MessagesButton />}
      <button
        type="button"
        class="button ghost small"
        lang={i18n.lang.value === 'zh' ? 'en' : 'zh'}
        onClick={() => void i18n.setLang(i18n.lang.value === 'zh' ? 'en' : 'zh')}
      >
        {t.nav.otherLanguage}
      </button>
      {signedIn && (
        <button type="button" class="button ghost small" onClick={() => signOut()}>
          {t.nav.signOut}
        </button>
      )}
    </header>
  );
}

function Shell() {
  const { session, i18n, notifications } = useStore();
  const t = useT();
  const state = session.state.value;
  return (
    <div class="app" lang={i18n.locale.value}>
      <Header />
      {state === 'signed-in' && notifications.open.value && <MessageList />}
      <main class="main">
        {state === 'signed-in' ? (
          <Page />
        ) : state === 'checking' ? (
          <p class="loading" role="status">
            {t.login.checking}
          </p>
        ) : (
          <LoginPage />
        )}
      </main>
    </div>
  );
}

export function App({ store }: { store: Store }) {
  return (
    <StoreContext.Provider value={store}>
      <Shell />
    </StoreContext.Provider>
  );
}
