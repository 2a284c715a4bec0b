import type { ComponentChildren } from 'preact';
import type { BugDetail, RepairReport } from '../api/client';
import { LevelBadge, SourceBadge, StatusBadge } from '../components/Badges';
import { DiffView } from '../components/DiffView';
import { Empty, ErrorNotice, errorText, Loading } from '../components/Feedback';
import { lazy } from '../components/Lazy';
import { Link } from '../components/Link';
import { DateTime, RelativeTime } from '../components/Time';
import { sentryDetails } from '../lib/sentry';
import { formatDuration } from '../lib/time';
import { safeHref } from '../lib/url';
import { boardHref, DEFAULT_FILTERS } from '../state/board';
import { DIFF_PREVIEW_LINES } from '../state/bug';
import { useStore, useT } from '../state/store';

/** The review panel and activity: a chunk of their own, fetched for bugs that have a PR. */
const BugReview = lazy(() => import('./BugReview').then((m) => m.BugReview));

function Panel({
  title,
  children,
  id,
}: {
  title: ComponentChildren;
  children: ComponentChildren;
  id: string;
}) {
  return (
    <section class="panel" aria-labelledby={id}>
      <h2 id={id} class="section-title">
        {title}
      </h2>
      {children}
    </section>
  );
}

type Row = [label: string, value: ComponentChildren];

function Facts({ rows }: { rows: Row[] }) {
  return (
    <dl class="facts">
      {rows.map(([label, value]) => (
        <div key={label} class="fact">
          <dt>{label}</dt>
          <dd>{value ?? <span class="muted">—</span>}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A context value as text; objects are shown as JSON, never interpreted. */
function contextValue(context: Record<string, unknown>, key: string): string | null {
  const value = context[key];
  if (value === undefined || value === null || value === '') return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A link only for http(s) URLs; anything else from a report stays plain text. */
function ExternalLink({ url, children }: { url: string | null; children: ComponentChildren }) {
  const href = safeHref(url);
  if (!href) return url ? <span class="mono">{url}</span> : null;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}

function firstLine(text: string) {
  return text.split('\n', 1)[0] ?? '';
}

function BasicInfo({ bug }: { bug: BugDetail }) {
  const t = useT();
  const f = t.bug.fields;
  return (
    <Panel id="basics" title={`📌 ${t.bug.basics}`}>
      <Facts
        rows={[
          [f.title, <span class="break">{`${bug.error.type}: ${firstLine(bug.error.message)}`}</span>],
          [
            f.project,
            <Link href={boardHref({ ...DEFAULT_FILTERS, project: bug.project_id })}>{bug.project_id}</Link>,
          ],
          [f.status, <StatusBadge status={bug.status} />],
          [f.source, <SourceBadge source={bug.source} />],
          [f.level, <LevelBadge level={bug.level} />],
          [f.environment, bug.environment],
          [f.firstSeen, <DateTime iso={bug.first_seen} />],
          [
            f.lastSeen,
            <>
              <DateTime iso={bug.last_seen} /> (<RelativeTime iso={bug.last_seen} />)
            </>,
          ],
          [f.occurrences, String(bug.occurrence_count)],
          [f.regressions, String(bug.regression_count)],
          [f.version, bug.version],
          [f.commit, bug.commit_hash && <span class="mono">{bug.commit_hash}</span>],
          ...(bug.claimed_by ? ([[f.claimedBy, bug.claimed_by]] as Row[]) : []),
          ...(bug.merged_at ? ([[f.mergedAt, <DateTime iso={bug.merged_at} />]] as Row[]) : []),
          ...(bug.deployed_at ? ([[f.deployedAt, <DateTime iso={bug.deployed_at} />]] as Row[]) : []),
        ]}
      />
    </Panel>
  );
}

function ErrorDetails({ bug }: { bug: BugDetail }) {
  const t = useT();
  const { file_path, line_number, message, stack_trace } = bug.error;
  return (
    <Panel id="error" title={`🐛 ${t.bug.error}`}>
      {file_path && (
        <p class="location">
          <span class="label">{t.bug.location}</span>{' '}
          <code class="mono">{line_number === null ? file_path : `${file_path}:${line_number}`}</code>
        </p>
      )}
      <p class="label">{t.bug.message}</p>
      <pre class="code message" data-testid="error-message">
        {`${bug.error.type}: ${message}`}
      </pre>
      <p class="label">{t.bug.stack}</p>
      {stack_trace.length ? (
        <pre class="code stack" data-testid="stack-trace">
          {stack_trace.join('\n')}
        </pre>
      ) : (
        <p class="muted">{t.bug.noStack}</p>
      )}
    </Panel>
  );
}

function CiDetails({ context }: { context: Record<string, unknown> }) {
  const t = useT();
  const c = t.bug.ci;
  const run = contextValue(context, 'run_url');
  const runId = contextValue(context, 'run_id');
  return (
    <Panel id="ci" title={`⚙️ ${c.title}`}>
      <Facts
        rows={[
          [c.workflow, contextValue(context, 'workflow')],
          [c.job, contextValue(context, 'job_name')],
          [c.step, contextValue(context, 'step_name')],
          [c.branch, contextValue(context, 'branch')],
          [
            c.commit,
            contextValue(context, 'commit') && <span class="mono">{contextValue(context, 'commit')}</span>,
          ],
          [c.actor, contextValue(context, 'actor')],
          [c.repository, contextValue(context, 'repository')],
          [
            c.run,
            run ? (
              <ExternalLink url={run}>{runId ? c.runLinkNumbered(runId) : c.runLink}</ExternalLink>
            ) : (
              runId
            ),
          ],
        ]}
      />
    </Panel>
  );
}

function PodDetails({ context }: { context: Record<string, unknown> }) {
  const t = useT();
  const p = t.bug.pod;
  return (
    <Panel id="pod" title={`☸️ ${p.title}`}>
      <Facts
        rows={[
          [p.namespace, contextValue(context, 'namespace')],
          [p.pod, contextValue(context, 'pod_name')],
          [p.container, contextValue(context, 'container_name')],
          [p.deployment, contextValue(context, 'deployment_name')],
          [p.restarts, contextValue(context, 'restart_count')],
          [p.exitCode, contextValue(context, 'exit_code')],
          [p.node, contextValue(context, 'node_name')],
          [
            p.image,
            contextValue(context, 'image') && <span class="mono">{contextValue(context, 'image')}</span>,
          ],
        ]}
      />
    </Panel>
  );
}

/** What a Sentry SDK sent beyond the error. Every value is the reporting app's text, shown as text. */
function SentryDetails({ bug }: { bug: BugDetail }) {
  const t = useT();
  const s = t.bug.sentry;
  const details = sentryDetails(bug.context);
  if (!details) return null;
  return (
    <Panel id="sentry" title={`🛰 ${s.title}`}>
      <Facts
        rows={[
          [t.projects.sentry.sdk, details.sdk],
          [s.platform, details.platform],
          [s.release, bug.version],
          [s.user, details.user],
          [s.request, details.request && <span class="break">{details.request}</span>],
        ]}
      />
      {details.breadcrumbs.length > 0 && (
        <>
          <p class="label">{s.breadcrumbs(details.breadcrumbs.length)}</p>
          <table class="crumbs">
            <thead>
              <tr>
                <th scope="col">{s.time}</th>
                <th scope="col">{s.category}</th>
                <th scope="col">{t.board.columns.level}</th>
                <th scope="col">{s.message}</th>
              </tr>
            </thead>
            <tbody>
              {details.breadcrumbs.map((crumb, i) => (
                // Breadcrumbs have no id; their order never changes for one bug.
                <tr key={i}>
                  <td class="mono nowrap">{crumb.time}</td>
                  <td>{crumb.category}</td>
                  <td>{crumb.level}</td>
                  <td class="mono break">{crumb.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Panel>
  );
}

function Context({ context }: { context: Record<string, unknown> }) {
  const t = useT();
  const empty = Object.keys(context).length === 0;
  return (
    <Panel id="context" title={`🧾 ${t.bug.context}`}>
      {empty ? (
        <p class="muted">{t.bug.noContext}</p>
      ) : (
        <pre class="code" data-testid="context">
          {JSON.stringify(context, null, 2)}
        </pre>
      )}
    </Panel>
  );
}

function Actions() {
  const { bug: model } = useStore();
  const t = useT();
  const bug = model.bug.value;
  if (!bug) return null;
  const pending = model.pending.value;
  const done = model.done.value;
  return (
    <Panel id="actions" title={`🛠 ${t.bug.actions.title}`}>
      <div class="actions">
        {model.actions.value.map(({ action, blocked }) => (
          <button
            key={action}
            type="button"
            class={
              action === 'trigger_fix'
                ? 'button primary'
                : action === 'mark_failed'
                  ? 'button danger'
                  : 'button'
            }
            disabled={blocked !== null || pending !== null}
            aria-describedby={blocked === 'not_runtime' ? 'trigger-fix-hint' : undefined}
            title={
              blocked === 'not_runtime'
                ? t.bug.actions.notRuntime
                : blocked === 'state'
                  ? t.bug.actions.notFromState(t.status[bug.status as keyof typeof t.status] ?? bug.status)
                  : undefined
            }
            onClick={() => void model.act(action)}
          >
            {pending === action ? t.common.working : t.bug.actions.labels[action]}
          </button>
        ))}
      </div>
      {bug.source !== 'runtime' && (
        <p id="trigger-fix-hint" class="hint">
          {t.bug.actions.notRuntime}
        </p>
      )}
      <label class="field">
        <span>{t.bug.actions.note}</span>
        <input
          type="text"
          value={model.note.value}
          maxLength={500}
          placeholder={t.bug.actions.notePlaceholder}
          onInput={(e) => (model.note.value = e.currentTarget.value)}
        />
      </label>
      {done && (
        <p class="notice ok" role="status">
          {t.bug.actions.done[done]}
        </p>
      )}
      {model.actionError.value !== null && (
        <p class="notice error" role="alert">
          {errorText(t, model.actionError.value)}
        </p>
      )}
    </Panel>
  );
}

function testSummary(output: string | null): number | null {
  const match = output && /(\d+)\s+(?:tests?\s+)?passed/i.exec(output);
  return match ? Number(match[1]) : null;
}

function Report({ report, earlier }: { report: RepairReport | null; earlier: number }) {
  const { bug: model } = useStore();
  const t = useT();
  const r = t.bug.report;
  if (!report) {
    return (
      <Panel id="report" title={`📋 ${r.title}`}>
        <p class="muted">{r.none}</p>
      </Panel>
    );
  }
  const changes = model.changes.value;
  const passedCount = testSummary(report.test_output);
  return (
    <Panel id="report" title={`📋 ${r.title}`}>
      <p class="label">{r.analysis}</p>
      {report.analysis ? <pre class="prose">{report.analysis}</pre> : <p class="muted">—</p>}
      <p class="label">{r.files(changes.length)}</p>
      <ul class="files">
        {changes.map((file) => (
          <li key={file.path}>
            <code class="mono">{file.path}</code>{' '}
            {file.additions !== null && (
              <span class="diff-stat">
                (<span class="add">+{file.additions}</span>, <span class="del">-{file.deletions}</span>)
              </span>
            )}
          </li>
        ))}
      </ul>
      <Facts
        rows={[
          [
            r.testResult,
            report.test_passed === null ? (
              r.notRun
            ) : report.test_passed ? (
              <span class="ok">✅ {passedCount === null ? r.passed : r.passedCount(passedCount)}</span>
            ) : (
              <span class="bad">❌ {r.failed}</span>
            ),
          ],
          [r.branch, report.branch_name && <code class="mono">{report.branch_name}</code>],
          [r.model, report.model],
          [
            r.duration,
            report.duration_ms === null ? null : formatDuration(report.duration_ms / 1000, t.units),
          ],
          [
            r.tokens,
            report.tokens_in === null && report.tokens_out === null
              ? null
              : r.tokenCounts(report.tokens_in ?? 0, report.tokens_out ?? 0),
          ],
          [r.at, <DateTime iso={report.created_at} />],
        ]}
      />
      {report.test_output && (
        <details class="test-output">
          <summary>{r.testOutput}</summary>
          <pre class="code">{report.test_output}</pre>
        </details>
      )}
      {earlier > 0 && <p class="muted small">{r.earlier(earlier)}</p>}
    </Panel>
  );
}

function PullRequest({ bug }: { bug: BugDetail }) {
  const { bug: model } = useStore();
  const t = useT();
  const p = t.bug.pr;
  const pr = model.pr.value;
  if (!pr) return null;
  const href = safeHref(pr.url);
  const totals = model.totals.value;
  const state = p.states[bug.status as keyof typeof p.states] ?? p.states.open;
  return (
    <Panel id="pr" title={`🔗 ${p.title}`}>
      <p class="pr-title">
        <strong>{pr.number === null ? p.title : `PR #${pr.number}`}</strong>
        {pr.branch && <span class="mono muted"> {pr.branch} → main</span>}
      </p>
      <Facts
        rows={[
          [p.changes, p.changed(totals.files, totals.additions, totals.deletions)],
          [p.state, state],
        ]}
      />
      {href ? (
        <a class="button primary review" href={href} target="_blank" rel="noopener noreferrer">
          🔍 {p.review}
        </a>
      ) : (
        pr.url && (
          <p class="muted small">
            {p.unsafe} <span class="mono">{pr.url}</span>
          </p>
        )
      )}
    </Panel>
  );
}

function DiffPreview() {
  const { bug: model } = useStore();
  const t = useT();
  const files = model.diffFiles.value;
  if (!model.report.value) return null;
  const full = model.fullDiff.value;
  const long = files.some((f) => f.hunks.reduce((n, h) => n + h.lines.length, 0) > DIFF_PREVIEW_LINES);
  return (
    <Panel id="diff" title={`📄 ${t.bug.diff.title}`}>
      {files.length ? (
        <>
          <DiffView files={files} previewLines={full ? null : DIFF_PREVIEW_LINES} />
          {long && (
            <button type="button" class="button small" onClick={() => (model.fullDiff.value = !full)}>
              {full ? t.bug.diff.collapse : t.bug.diff.full}
            </button>
          )}
        </>
      ) : (
        <p class="muted">{t.bug.diff.none}</p>
      )}
    </Panel>
  );
}

function Occurrences({ bug }: { bug: BugDetail }) {
  const t = useT();
  const o = t.bug.occurrences;
  return (
    <Panel id="occurrences" title={`🔁 ${o.title(bug.occurrence_count)}`}>
      {bug.occurrences.length === 0 ? (
        <p class="muted">{o.none}</p>
      ) : (
        <ul class="occurrences">
          {bug.occurrences.map((occ) => (
            <li key={occ.id}>
              <details>
                <summary>
                  <RelativeTime iso={occ.timestamp} /> · {occ.environment} · <LevelBadge level={occ.level} />
                  {occ.version && <span class="muted"> · {occ.version}</span>}
                  <span class="occ-message"> {firstLine(occ.message)}</span>
                </summary>
                <pre class="code">{occ.message}</pre>
                {occ.stack_trace.length > 0 && <pre class="code stack">{occ.stack_trace.join('\n')}</pre>}
                {Object.keys(occ.context).length > 0 && (
                  <pre class="code">{JSON.stringify(occ.context, null, 2)}</pre>
                )}
              </details>
            </li>
          ))}
        </ul>
      )}
      {bug.occurrence_count > bug.occurrences.length && bug.occurrences.length > 0 && (
        <p class="muted small">{o.recent(bug.occurrences.length)}</p>
      )}
    </Panel>
  );
}

function History({ bug }: { bug: BugDetail }) {
  const t = useT();
  const h = t.bug.history;
  // Newest first: the latest change is what a reader opens the history for.
  const entries = [...bug.history].reverse();
  return (
    <Panel id="history" title={`📝 ${h.title}`}>
      {entries.length === 0 ? (
        <p class="muted">{h.none}</p>
      ) : (
        <ol class="history" data-testid="history">
          {entries.map((entry) => (
            <li key={entry.id}>
              <DateTime iso={entry.at} />{' '}
              {entry.from_status ? (
                <>
                  <StatusBadge status={entry.from_status} /> → <StatusBadge status={entry.to_status} />
                </>
              ) : (
                <>
                  {h.created} <StatusBadge status={entry.to_status} />
                </>
              )}{' '}
              <span class="muted">{h.by(entry.actor)}</span>
              {entry.note && <span class="note"> — {entry.note}</span>}
            </li>
          ))}
        </ol>
      )}
    </Panel>
  );
}

export function BugPage() {
  const { bug: model, board, router } = useStore();
  const t = useT();
  const route = router.route.value;
  const bug = model.bug.value;
  const id = route.name === 'bug' ? route.id : null;

  let body = null;
  if (model.error.value) {
    body = <ErrorNotice error={model.error.value} onRetry={() => void model.reload()} />;
  } else if (!bug || bug.id !== id) {
    body = model.loading.value ? <Loading /> : <Empty title={t.bug.notFound} />;
  } else {
    body = (
      <>
        <div class="columns">
          <BasicInfo bug={bug} />
          <Actions />
        </div>
        <ErrorDetails bug={bug} />
        {bug.source === 'runtime' && <SentryDetails bug={bug} />}
        {bug.source === 'cicd' && <CiDetails context={bug.context} />}
        {bug.source === 'deployment' && <PodDetails context={bug.context} />}
        <Report report={model.report.value} earlier={Math.max(0, bug.repair_reports.length - 1)} />
        <PullRequest bug={bug} />
        {Boolean(model.pr.value || bug.activity?.length) && <BugReview bug={bug} />}
        <DiffPreview />
        <Context context={bug.context} />
        <Occurrences bug={bug} />
        <History bug={bug} />
      </>
    );
  }

  return (
    <section class="page bug" aria-busy={model.loading.value}>
      <header class="page-head">
        <Link href={board.href.value}>← {t.bug.back}</Link>
        <h1>{t.bug.title(id ?? 0)}</h1>
      </header>
      {body}
    </section>
  );
}
