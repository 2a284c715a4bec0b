import { useSignal } from '@preact/signals';
import type { Bug } from '../api/client';
import { LevelBadge, SourceBadge, StatusBadge, statusIcon } from '../components/Badges';
import { Empty, ErrorNotice, errorText, Loading } from '../components/Feedback';
import { Link } from '../components/Link';
import { Pagination } from '../components/Pagination';
import { Snippet } from '../components/Snippet';
import { type Tab, Tabs } from '../components/Tabs';
import { RelativeTime } from '../components/Time';
import { SOURCES, TODAY_STATUSES } from '../lib/status';
import { shellQuote } from '../lib/url';
import { BATCH_ACTIONS } from '../state/batch';
import { BOARD_SORTS, type BoardFilters, type BoardSort, boardHref } from '../state/board';
import { useStore, useT } from '../state/store';

export const apiOrigin = (apiBase: string) => apiBase || window.location.origin;

export function firstReportCommand(origin: string, projectId = 'my_project') {
  const body = JSON.stringify({
    project_id: projectId,
    environment: 'production',
    level: 'ERROR',
    error: {
      type: 'ValueError',
      message: 'something went wrong',
      file_path: 'app/main.py',
      line_number: 1,
      stack_trace: ['Traceback (most recent call last):', 'ValueError: something went wrong'],
    },
  });
  return [
    `curl -X POST ${shellQuote(`${origin}/api/v1/logs/report`)} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(body)}`,
  ].join('\n');
}

function TodayCounts() {
  const { board } = useStore();
  const t = useT();
  const today = board.today.value;
  const filters = board.filters.value;
  return (
    <section class="today" aria-label={t.board.today}>
      <h2 class="section-title">📊 {t.board.today}</h2>
      <div class="cards">
        {TODAY_STATUSES.map((status) => {
          const count = today ? (status === 'NEW' ? today.new : (today.by_status[status] ?? 0)) : null;
          return (
            <Link
              key={status}
              class={`card today-card status-${status.toLowerCase()}`}
              href={boardHref({ ...filters, status, page: 1 })}
              data-status={status}
            >
              <span class="card-label">
                <span aria-hidden="true">{statusIcon(status)} </span>
                {t.status[status]}
              </span>
              <span class="card-value">{count ?? '—'}</span>
            </Link>
          );
        })}
      </div>
    </section>
  );
}

function Filters() {
  const { board, projects } = useStore();
  const t = useT();
  const f = board.filters.value;
  const at = (patch: Partial<BoardFilters>) => boardHref({ ...f, page: 1, ...patch });

  const statusTabs: Tab[] = [
    { key: 'all', label: t.board.all, href: at({ status: null }) },
    // Review first: it is the one state that waits for a person.
    ...(['PENDING_REVIEW', 'NEW', 'FIXING', 'MERGED', 'DEPLOYED', 'FAILED', 'IGNORED'] as const).map((s) => ({
      key: s,
      label: (
        <>
          <span aria-hidden="true">{statusIcon(s)} </span>
          {t.status[s]}
        </>
      ),
      href: at({ status: s }),
    })),
  ];
  const sourceTabs: Tab[] = [
    { key: 'all', label: t.board.allSources, href: at({ source: null }) },
    ...SOURCES.map((s) => ({ key: s, label: t.source[s], href: at({ source: s }) })),
  ];
  const ids = projects.ids.value;
  const projectIds = f.project && !ids.includes(f.project) ? [...ids, f.project] : ids;
  const projectTabs: Tab[] = [
    { key: '', label: t.board.allProjects, href: at({ project: null }) },
    ...projectIds.map((id) => ({ key: id, label: id, href: at({ project: id }) })),
  ];

  return (
    <div class="filters">
      <Tabs label={t.board.statusFilter} tabs={statusTabs} active={f.status ?? 'all'} />
      <Tabs label={t.board.sourceFilter} tabs={sourceTabs} active={f.source ?? 'all'} />
      {projectIds.length > 0 && (
        <Tabs label={t.board.projectFilter} tabs={projectTabs} active={f.project ?? ''} />
      )}
    </div>
  );
}

function Search() {
  const { board } = useStore();
  const t = useT();
  const f = board.filters.value;
  const text = useSignal(f.q);
  return (
    <form
      class="search"
      onSubmit={(e) => {
        e.preventDefault();
        board.show({ q: text.value.trim() });
      }}
    >
      <input
        type="search"
        aria-label={t.board.search}
        placeholder={t.board.searchPlaceholder}
        value={text.value}
        onInput={(e) => (text.value = e.currentTarget.value)}
      />
      <button type="submit" class="button">
        {t.board.search}
      </button>
      <label class="sort">
        <span>{t.board.sort}</span>
        <select value={f.sort} onChange={(e) => board.show({ sort: e.currentTarget.value as BoardSort })}>
          {BOARD_SORTS.map((s) => (
            <option key={s} value={s}>
              {t.board.sorts[s]}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}

/** The tick box of a row waiting for review, for batch review; an empty cell otherwise. */
function SelectCell({ bug }: { bug: Bug }) {
  const { batch } = useStore();
  const t = useT();
  if (!batch.reviewable.value.has(bug.id)) return <td />;
  return (
    <td class="select">
      <input
        type="checkbox"
        aria-label={t.batch.select(bug.id)}
        checked={batch.picked.value.has(bug.id)}
        onChange={(e) => batch.toggle(bug.id, e.currentTarget.checked)}
      />
    </td>
  );
}

function SelectAll({ items }: { items: Bug[] }) {
  const { batch } = useStore();
  const t = useT();
  const ids = items.map((b) => b.id).filter((id) => batch.reviewable.value.has(id));
  if (!ids.length) return <th scope="col" />;
  const all = ids.every((id) => batch.picked.value.has(id));
  return (
    <th scope="col" class="select">
      <input
        type="checkbox"
        aria-label={t.batch.selectAll}
        checked={all}
        onChange={(e) => batch.setAll(ids, e.currentTarget.checked)}
      />
    </th>
  );
}

export function BugRows({ items }: { items: Bug[] }) {
  const { batch } = useStore();
  const t = useT();
  // The tick column only where a row can be reviewed from the board.
  const selectable = items.some((b) => batch.reviewable.value.has(b.id));
  return (
    <table class="bugs">
      <thead>
        <tr>
          {selectable && <SelectAll items={items} />}
          <th scope="col">#</th>
          <th scope="col">{t.board.columns.error}</th>
          <th scope="col">{t.board.columns.source}</th>
          <th scope="col">{t.board.columns.level}</th>
          <th scope="col" class="num">
            {t.board.columns.occurrences}
          </th>
          <th scope="col">{t.board.columns.lastSeen}</th>
          <th scope="col">{t.board.columns.status}</th>
          <th scope="col">
            <span class="visually-hidden">{t.board.details}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {items.map((bug) => (
          <tr key={bug.id} data-bug-id={bug.id}>
            {selectable && <SelectCell bug={bug} />}
            <td class="mono">#{bug.id}</td>
            <td class="bug-title">
              <Link href={`/bugs/${bug.id}`} class="bug-link">
                <strong>{bug.error.type}</strong>
                <span class="bug-message">{bug.error.message.split('\n', 1)[0]}</span>
              </Link>
              <span class="muted small">
                {bug.project_id} · {bug.environment}
                {bug.error.file_path ? ` · ${bug.error.file_path}:${bug.error.line_number ?? '?'}` : ''}
              </span>
            </td>
            <td>
              <SourceBadge source={bug.source} />
            </td>
            <td>
              <LevelBadge level={bug.level} />
            </td>
            <td class="num">{bug.occurrence_count}</td>
            <td>
              <RelativeTime iso={bug.last_seen} />
            </td>
            <td>
              <StatusBadge status={bug.status} />
            </td>
            <td>
              <Link href={`/bugs/${bug.id}`} aria-label={t.board.openBug(bug.id)}>
                {t.board.details} →
              </Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The batch review bar: shown once bugs waiting for review are ticked, and for the results. */
function BatchReview() {
  const { batch } = useStore();
  const t = useT();
  const b = t.batch;
  const count = batch.selected.value.length;
  const results = batch.results.value;
  const confirming = batch.confirming.value;
  const pending = batch.pending.value;
  const problem = batch.problem.value;
  if (!count && !results && batch.error.value === null) return null;
  const ok = results?.filter((r) => r.ok).length ?? 0;
  return (
    <section class="panel batch" aria-labelledby="batch-title">
      <h2 id="batch-title" class="section-title">
        {count ? b.selected(count) : b.results}
      </h2>
      {count > 0 && (
        <>
          <label class="field">
            <span>{b.note}</span>
            <input
              type="text"
              maxLength={10_000}
              value={batch.note.value}
              placeholder={b.notePlaceholder}
              onInput={(e) => {
                batch.note.value = e.currentTarget.value;
                batch.problem.value = null;
              }}
            />
          </label>
          <div class="actions">
            {BATCH_ACTIONS.map((action) => (
              <button
                key={action}
                type="button"
                class={action === 'approve_and_merge' ? 'button primary' : 'button danger'}
                disabled={pending !== null}
                onClick={() => batch.ask(action)}
              >
                {pending === action
                  ? t.common.working
                  : action === 'approve_and_merge'
                    ? b.approveAndMerge
                    : b.reject}
              </button>
            ))}
            <button
              type="button"
              class="button ghost"
              disabled={pending !== null}
              onClick={() => batch.setAll(batch.selected.value, false)}
            >
              {b.clear}
            </button>
          </div>
          {problem && (
            <p class="field-error" role="alert">
              {t.review.problems[problem]}
            </p>
          )}
          {confirming && (
            <div class="confirm" role="alertdialog" aria-labelledby="batch-confirm">
              <p id="batch-confirm">{b.confirm[confirming](count)}</p>
              <button
                type="button"
                class="button primary small"
                disabled={pending !== null}
                onClick={() => void batch.confirm()}
              >
                {pending ? t.common.working : t.review.yes}
              </button>
              <button type="button" class="button small" disabled={pending !== null} onClick={batch.cancel}>
                {t.review.no}
              </button>
            </div>
          )}
        </>
      )}
      {batch.error.value !== null && (
        <p class="notice error" role="alert">
          {errorText(t, batch.error.value)}
        </p>
      )}
      {results && (
        <div class="batch-results" role="status">
          <p>
            <strong>{b.results}</strong>: {b.summary(ok, results.length - ok)}{' '}
            <button type="button" class="button ghost small" onClick={batch.dismiss}>
              {b.dismiss}
            </button>
          </p>
          <ul data-testid="batch-results">
            {results.map((r) => (
              <li key={r.id} data-bug-id={r.id} class={r.ok ? 'ok' : 'bad'}>
                <Link href={`/bugs/${r.id}`}>#{r.id}</Link> {r.ok ? `✅ ${b.ok}` : `❌ ${b.failed}: `}
                {!r.ok && <span class="break">{r.error?.message ?? r.error?.code}</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function FirstRun() {
  const { env } = useStore();
  const t = useT();
  return (
    <Empty title={t.board.firstRunTitle}>
      <p>{t.board.firstRunText}</p>
      <Snippet text={firstReportCommand(apiOrigin(env.apiBase))} />
      <p>
        {t.board.firstRunMore} <Link href="/projects">{t.nav.projects} →</Link>
      </p>
    </Empty>
  );
}

export function BoardPage() {
  const { board } = useStore();
  const t = useT();
  const f = board.filters.value;
  const list = board.list.value;
  const waiting = board.needsAction.value;

  let body = null;
  if (board.error.value) {
    body = <ErrorNotice error={board.error.value} onRetry={() => void board.reload()} />;
  } else if (!list) {
    body = <Loading />;
  } else if (board.firstRun.value) {
    body = <FirstRun />;
  } else {
    body = (
      <>
        {waiting && waiting.total > 0 && (
          <section class="group attention" aria-labelledby="needs-action">
            <h2 id="needs-action" class="section-title">
              <span aria-hidden="true">{statusIcon('PENDING_REVIEW')} </span>
              {t.board.needsAction} <span class="count">{waiting.total}</span>
            </h2>
            <BugRows items={waiting.items} />
            {waiting.total > waiting.items.length && (
              <Link href={boardHref({ ...f, status: 'PENDING_REVIEW', page: 1 })}>
                {t.board.needsActionMore(waiting.total)}
              </Link>
            )}
          </section>
        )}
        <section class="group" aria-labelledby="bug-list">
          <h2 id="bug-list" class="section-title">
            {f.status ? t.status[f.status] : waiting?.total ? t.board.otherBugs : t.board.allBugs}{' '}
            <span class="count">{list.total}</span>
          </h2>
          {list.items.length ? (
            <BugRows items={list.items} />
          ) : (
            <Empty title={board.filtered.value ? t.board.emptyFiltered : t.board.emptyList}>
              {board.filtered.value && <Link href="/">{t.board.clearFilters}</Link>}
            </Empty>
          )}
          <Pagination
            page={list.page}
            pageCount={board.pageCount.value}
            total={list.total}
            hrefFor={(page) => boardHref({ ...f, page })}
          />
        </section>
      </>
    );
  }

  return (
    <section class="page board" aria-busy={board.loading.value}>
      <header class="page-head">
        <h1>{t.board.title}</h1>
        <Search key={`${f.q}|${f.sort}`} />
      </header>
      <TodayCounts />
      <Filters />
      <BatchReview />
      {body}
    </section>
  );
}
