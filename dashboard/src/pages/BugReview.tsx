import { type Activity, ApiError, type BugDetail } from '../api/client';
import { MERGE_STYLES, type MergeStyle, NOTE_MAX, REVIEW_ACTIONS } from '../api/review';
import { errorText } from '../components/Feedback';
import { DateTime } from '../components/Time';
import type { Messages } from '../i18n/zh';
import { safeHref } from '../lib/url';
import { useStore, useT } from '../state/store';

/** Gitea's own reason when Gitea refused; what the server said when the review cannot be done. */
export function reviewErrorText(t: Messages, error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'gitea_failed') return `${t.review.giteaFailed} ${error.message}`;
    if (error.code === 'not_configured') return `${t.review.notConfigured} ${error.message}`;
    if (error.code === 'conflict' || error.code === 'validation_failed') {
      return `${t.review.conflict} ${error.message}`;
    }
  }
  return errorText(t, error);
}

function ReviewPanel({ bug }: { bug: BugDetail }) {
  const { review } = useStore();
  const t = useT();
  const r = t.review;
  const pr = bug.pr_number ?? 0;
  const confirming = review.confirming.value;
  const pending = review.pending.value;
  const style = review.mergeStyle.value;
  const styleName = t.mergeStyles[style];
  const problem = review.problem.value;
  return (
    <section class="panel review-panel" aria-labelledby="review">
      <h2 id="review" class="section-title">
        ✅ {r.title}
      </h2>
      <p class="muted small">{r.intro(pr)}</p>
      <label class="field">
        <span>{r.note}</span>
        <textarea
          rows={3}
          maxLength={NOTE_MAX}
          value={review.note.value}
          placeholder={r.notePlaceholder}
          aria-invalid={problem !== null}
          onInput={(e) => {
            review.note.value = e.currentTarget.value;
            review.problem.value = null;
          }}
        />
      </label>
      <div class="field inline">
        <label for="review-merge-style">{r.mergeStyle}</label>
        <select
          id="review-merge-style"
          value={style}
          onChange={(e) => (review.style.value = e.currentTarget.value as MergeStyle)}
          disabled={pending !== null}
        >
          {MERGE_STYLES.map((s) => (
            <option key={s} value={s}>
              {t.mergeStyles[s]}
            </option>
          ))}
        </select>
        <span class="muted small">{r.projectDefault(t.mergeStyles[review.settings.value.merge_style])}</span>
      </div>
      <div class="actions">
        {REVIEW_ACTIONS.map((action) => (
          <button
            key={action}
            type="button"
            class={
              action === 'approve_and_merge'
                ? 'button primary'
                : action === 'close' || action === 'request_changes'
                  ? 'button danger'
                  : 'button'
            }
            disabled={pending !== null}
            aria-pressed={confirming === action}
            onClick={() => review.ask(action)}
          >
            {pending === action ? t.common.working : r.actions[action]}
          </button>
        ))}
      </div>
      {problem && (
        <p class="field-error" role="alert">
          {r.problems[problem]}
        </p>
      )}
      {confirming && (
        <div class="confirm" role="alertdialog" aria-labelledby="review-confirm">
          <p id="review-confirm">{r.confirm[confirming](pr, styleName)}</p>
          <button
            type="button"
            class="button primary small"
            disabled={pending !== null}
            onClick={() => void review.confirm()}
          >
            {pending ? t.common.working : r.yes}
          </button>
          <button type="button" class="button small" disabled={pending !== null} onClick={review.cancel}>
            {r.no}
          </button>
        </div>
      )}
      {review.done.value && (
        <p class="notice ok" role="status">
          {r.done[review.done.value]}
        </p>
      )}
      {review.error.value !== null && (
        <p class="notice error" role="alert" data-testid="review-error">
          {reviewErrorText(t, review.error.value)}
        </p>
      )}
    </section>
  );
}

type ActorKind = 'person' | 'policy' | 'gitea' | 'other';

const actorKind = (actor: string): ActorKind =>
  actor === 'person'
    ? 'person'
    : actor === 'policy'
      ? 'policy'
      : actor.startsWith('gitea:')
        ? 'gitea'
        : 'other';

const ACTOR_ICONS: Record<ActorKind, string> = { person: '👤', policy: '🤖', gitea: '💬', other: '•' };

const text = (value: unknown) => (typeof value === 'string' && value ? value : null);

function ActivityItem({ item }: { item: Activity }) {
  const t = useT();
  const a = t.activity;
  const kind = actorKind(item.actor);
  const actor =
    kind === 'person'
      ? a.actors.person
      : kind === 'policy'
        ? a.actors.policy
        : kind === 'gitea'
          ? a.actors.gitea(item.actor.slice('gitea:'.length))
          : item.actor;
  const state = text(item.data.state);
  const rule = text(item.data.rule);
  const style = text(item.data.merge_style);
  const reviewers = Array.isArray(item.data.reviewers) ? item.data.reviewers.map(String).join(', ') : null;
  const path = text(item.data.path);
  const line = typeof item.data.line === 'number' ? item.data.line : null;
  const link = safeHref(text(item.data.html_url));
  return (
    <li class={`activity-item actor-${kind}`} data-kind={item.kind} data-actor={kind}>
      <p class="activity-head">
        <span aria-hidden="true">{ACTOR_ICONS[kind]} </span>
        <strong class="activity-actor">{actor}</strong> <span>{a.kinds[item.kind] ?? item.kind}</span>
        {state && <span class="badge">{a.reviewStates[state] ?? state}</span>}{' '}
        <span class="muted small">
          <DateTime iso={item.at} />
        </span>
      </p>
      {item.body && <pre class="prose activity-body">{item.body}</pre>}
      {(rule || style || reviewers || path || link) && (
        <p class="muted small">
          {rule && <span>{a.rule(rule)} </span>}
          {style && <span>{a.style(t.mergeStyles[style as MergeStyle] ?? style)} </span>}
          {reviewers && <span>{a.reviewers(reviewers)} </span>}
          {path && <span class="mono">{a.at(line === null ? path : `${path}:${line}`)} </span>}
          {link && (
            <a href={link} target="_blank" rel="noopener noreferrer">
              {a.open}
            </a>
          )}
        </p>
      )}
    </li>
  );
}

function ActivityList({ items }: { items: Activity[] }) {
  const t = useT();
  // Newest first, like the history.
  const entries = [...items].reverse();
  return (
    <section class="panel" aria-labelledby="activity">
      <h2 id="activity" class="section-title">
        🗨 {t.activity.title}
      </h2>
      {entries.length === 0 ? (
        <p class="muted">{t.activity.none}</p>
      ) : (
        <ol class="activity" data-testid="activity">
          {entries.map((item) => (
            <ActivityItem key={item.id} item={item} />
          ))}
        </ol>
      )}
    </section>
  );
}

/** The review panel for a bug waiting for review, and the bug's review activity. */
export function BugReview({ bug }: { bug: BugDetail }) {
  const { review } = useStore();
  return (
    <>
      {review.available.value && <ReviewPanel bug={bug} />}
      <ActivityList items={bug.activity ?? []} />
    </>
  );
}
