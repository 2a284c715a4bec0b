import { Link } from './components/Link';
import { BoardPage } from './pages/BoardPage';
import { BugPage } from './pages/BugPage';
import { LoginPage } from './pages/LoginPage';
import { ProjectEditPage } from './pages/ProjectEditPage';
import { ProjectsPage } from './pages/ProjectsPage';
import { StatsPage } from './pages/StatsPage';
import { type Store, StoreContext, useStore, useT } from './state/store';

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
  const { session, i18n } = useStore();
  const t = useT();
  const state = session.state.value;
  return (
    <div class="app" lang={i18n.locale.value}>
      <Header />
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
