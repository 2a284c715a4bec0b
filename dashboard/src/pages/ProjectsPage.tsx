import { useSignal } from '@preact/signals';
import { Empty, ErrorNotice, Loading } from '../components/Feedback';
import { Link } from '../components/Link';
import { Snippet } from '../components/Snippet';
import { shellQuote } from '../lib/url';
import { boardHref, DEFAULT_FILTERS } from '../state/board';
import { useStore, useT } from '../state/store';
import { apiOrigin } from './BoardPage';

export const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * The registration report (docs/clients.md#register-the-project): it creates the project (and
 * copies its repository URL) without a real error, and is stored muted so the repair agent skips it.
 */
export function registrationCommand(
  origin: string,
  projectId: string,
  options: { repoUrl?: string | null; ingestKey?: string | null } = {},
) {
  const body = JSON.stringify({
    project_id: projectId,
    environment: 'production',
    level: 'WARNING',
    ...(options.repoUrl ? { repo_url: options.repoUrl } : {}),
    error: {
      type: 'ProjectInit',
      message: 'Project registered to Log Center',
      stack_trace: ['Project initialization'],
    },
  });
  return [
    `curl -X POST ${shellQuote(`${origin}/api/v1/logs/report`)} \\`,
    `  -H 'Content-Type: application/json' \\`,
    ...(options.ingestKey ? [`  -H ${shellQuote(`X-Log-Center-Key: ${options.ingestKey}`)} \\`] : []),
    `  -d ${shellQuote(body)}`,
  ].join('\n');
}

function NewProject() {
  const { router, env } = useStore();
  const t = useT();
  const p = t.projects;
  const id = useSignal('');
  const value = id.value.trim();
  const valid = PROJECT_ID.test(value);
  return (
    <section class="panel" aria-labelledby="new-project">
      <h2 id="new-project" class="section-title">
        {p.newTitle}
      </h2>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) router.navigate(`/projects/${encodeURIComponent(value)}`);
        }}
      >
        <label class="field">
          <span>{p.idLabel}</span>
          <input
            type="text"
            name="project_id"
            value={id.value}
            placeholder="rtc_backend"
            pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
            onInput={(e) => (id.value = e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="button primary" disabled={!valid}>
          {p.create}
        </button>
      </form>
      <p class={value && !valid ? 'field-error' : 'muted small'}>{p.idHint}</p>
      <p>{p.snippetText}</p>
      <Snippet text={registrationCommand(apiOrigin(env.apiBase), valid ? value : 'my_project')} />
    </section>
  );
}

export function ProjectsPage() {
  const { projects } = useStore();
  const t = useT();
  const p = t.projects;
  const items = projects.items.value;

  let body = null;
  if (projects.error.value) {
    body = <ErrorNotice error={projects.error.value} onRetry={() => void projects.reload()} />;
  } else if (!items) {
    body = <Loading />;
  } else if (items.length === 0) {
    body = <Empty title={p.empty} />;
  } else {
    body = (
      <table class="table projects">
        <thead>
          <tr>
            <th scope="col">{p.columns.id}</th>
            <th scope="col">{p.columns.name}</th>
            <th scope="col">{p.columns.repo}</th>
            <th scope="col" class="num">
              {p.columns.bugs}
            </th>
            <th scope="col" class="num">
              {t.status.PENDING_REVIEW}
            </th>
            <th scope="col">{p.columns.key}</th>
            <th scope="col">
              <span class="visually-hidden">{p.edit}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((project) => (
            <tr key={project.project_id}>
              <td class="mono">
                <Link href={boardHref({ ...DEFAULT_FILTERS, project: project.project_id })}>
                  {project.project_id}
                </Link>
              </td>
              <td>{project.name}</td>
              <td class="mono small break">{project.repo_url ?? '—'}</td>
              <td class="num">{project.bug_counts.total}</td>
              <td class="num">{project.bug_counts.by_status.PENDING_REVIEW ?? 0}</td>
              <td>{project.ingest_key ? p.keySet : p.keyOpen}</td>
              <td>
                <Link href={`/projects/${encodeURIComponent(project.project_id)}`}>{p.edit} →</Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }

  return (
    <section class="page projects" aria-busy={projects.loading.value}>
      <header class="page-head">
        <h1>{p.title}</h1>
      </header>
      <section class="panel">{body}</section>
      <NewProject />
    </section>
  );
}
