import { SourceBadge, StatusBadge } from '../components/Badges';
import { Empty, ErrorNotice, Loading } from '../components/Feedback';
import { Link } from '../components/Link';
import { TrendChart } from '../components/TrendChart';
import { SOURCES, type Source, STATUSES } from '../lib/status';
import { formatDuration } from '../lib/time';
import { boardHref, DEFAULT_FILTERS } from '../state/board';
import { RANGES } from '../state/stats';
import { useStore, useT } from '../state/store';

const percent = (value: number, locale: string) =>
  new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(value);

function Controls() {
  const { stats, projects } = useStore();
  const t = useT();
  const f = stats.filters.value;
  const ids = projects.ids.value;
  return (
    <form class="controls" onSubmit={(e) => e.preventDefault()}>
      <label>
        <span>{t.stats.range}</span>
        <select value={String(f.days)} onChange={(e) => stats.show({ days: Number(e.currentTarget.value) })}>
          {RANGES.map((days) => (
            <option key={days} value={String(days)}>
              {t.stats.rangeLabel(days)}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{t.board.projectFilter}</span>
        <select
          value={f.project ?? ''}
          onChange={(e) => stats.show({ project: e.currentTarget.value || null })}
        >
          <option value="">{t.board.allProjects}</option>
          {(f.project && !ids.includes(f.project) ? [...ids, f.project] : ids).map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{t.board.sourceFilter}</span>
        <select
          value={f.source ?? ''}
          onChange={(e) => stats.show({ source: (e.currentTarget.value || null) as Source | null })}
        >
          <option value="">{t.board.allSources}</option>
          {SOURCES.map((s) => (
            <option key={s} value={s}>
              {t.source[s]}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}

export function StatsPage() {
  const { stats, i18n } = useStore();
  const t = useT();
  const s = t.stats;
  const data = stats.data.value;
  const locale = i18n.locale.value;

  let body = null;
  if (stats.error.value) {
    body = <ErrorNotice error={stats.error.value} onRetry={() => void stats.reload()} />;
  } else if (!data) {
    body = <Loading />;
  } else {
    const rate = data.fix_success_rate;
    const mean = data.mean_time_to_fix_seconds;
    body = (
      <>
        <section class="panel" aria-labelledby="totals">
          <h2 id="totals" class="section-title">
            {s.overall}
          </h2>
          <div class="cards">
            <div class="card">
              <span class="card-label">{s.found}</span>
              <span class="card-value" data-testid="stat-found">
                {data.window.new}
              </span>
            </div>
            <div class="card">
              <span class="card-label">{s.autoFixed}</span>
              <span class="card-value" data-testid="stat-fixed">
                {data.window.fixed}
              </span>
            </div>
            <div class="card">
              <span class="card-label">{s.failed}</span>
              <span class="card-value">{data.window.failed}</span>
            </div>
            <div class="card">
              <span class="card-label">{s.successRate}</span>
              <span class="card-value">{rate === null ? '—' : percent(rate, locale)}</span>
            </div>
            <div class="card">
              <span class="card-label">{s.meanTime}</span>
              <span class="card-value">{mean === null ? '—' : formatDuration(mean, t.units)}</span>
            </div>
          </div>
          <p class="muted small">{s.ratesHint}</p>
        </section>

        <section class="panel" aria-labelledby="trend">
          <h2 id="trend" class="section-title">
            {s.trend}
          </h2>
          <TrendChart
            trend={data.trend}
            labels={{ date: s.date, new: s.series.new, fixed: s.series.fixed, failed: s.series.failed }}
          />
          <details>
            <summary>{s.trendTable}</summary>
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{s.date}</th>
                  <th scope="col" class="num">
                    {s.series.new}
                  </th>
                  <th scope="col" class="num">
                    {s.series.fixed}
                  </th>
                  <th scope="col" class="num">
                    {s.series.failed}
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.trend.map((day) => (
                  <tr key={day.date}>
                    <td>{day.date}</td>
                    <td class="num">{day.new}</td>
                    <td class="num">{day.fixed}</td>
                    <td class="num">{day.failed}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </section>

        <div class="columns">
          <section class="panel" aria-labelledby="by-status">
            <h2 id="by-status" class="section-title">
              {s.byStatus} <span class="count">{data.totals.total}</span>
            </h2>
            <p class="muted small">{s.byStatusHint}</p>
            <table class="table">
              <tbody>
                {STATUSES.map((status) => (
                  <tr key={status}>
                    <td>
                      <StatusBadge status={status} />
                    </td>
                    <td class="num">{data.totals.by_status[status] ?? 0}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="panel" aria-labelledby="by-source">
            <h2 id="by-source" class="section-title">
              {s.bySource}
            </h2>
            <table class="table" data-testid="source-table">
              <thead>
                <tr>
                  <th scope="col">{t.board.columns.source}</th>
                  <th scope="col" class="num">
                    {s.count}
                  </th>
                  <th scope="col" class="num">
                    {s.share}
                  </th>
                </tr>
              </thead>
              <tbody>
                {stats.sources.value.map((row) => (
                  <tr key={row.source}>
                    <td>
                      <SourceBadge source={row.source} />
                    </td>
                    <td class="num">{row.count}</td>
                    <td class="num">{percent(row.share, locale)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>

        <section class="panel" aria-labelledby="by-project">
          <h2 id="by-project" class="section-title">
            {s.byProject}
          </h2>
          {stats.projects.value.length === 0 ? (
            <Empty title={s.empty} />
          ) : (
            <table class="table" data-testid="project-table">
              <thead>
                <tr>
                  <th scope="col">{t.board.columns.project}</th>
                  <th scope="col" class="num">
                    {s.projectTotal}
                  </th>
                  {(['PENDING_REVIEW', 'MERGED', 'DEPLOYED', 'FAILED'] as const).map((status) => (
                    <th key={status} scope="col" class="num">
                      {t.status[status]}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {stats.projects.value.map((row) => (
                  <tr key={row.project_id}>
                    <td>
                      <Link href={boardHref({ ...DEFAULT_FILTERS, project: row.project_id })}>
                        {row.project_id}
                      </Link>
                    </td>
                    <td class="num">{row.total}</td>
                    {(['PENDING_REVIEW', 'MERGED', 'DEPLOYED', 'FAILED'] as const).map((status) => (
                      <td key={status} class="num">
                        {row.by_status[status] ?? 0}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </>
    );
  }

  return (
    <section class="page stats" aria-busy={stats.loading.value}>
      <header class="page-head">
        <h1>📊 {s.title}</h1>
        <Controls />
      </header>
      {body}
    </section>
  );
}
