import { useStore, useT } from '../state/store';
import { Empty, ErrorNotice, Loading } from './Feedback';
import { Link } from './Link';
import { RelativeTime } from './Time';

/** The message centre's list, opened from the header: the latest messages, unread marked. */
export function MessageList() {
  const { notifications: model } = useStore();
  const t = useT();
  const m = t.messages;
  const items = model.items.value;
  const unread = model.unread.value ?? 0;
  let body = null;
  if (model.error.value !== null && !items) {
    body = <ErrorNotice error={model.error.value} onRetry={() => void model.loadList()} />;
  } else if (!items) {
    body = <Loading />;
  } else if (!items.length) {
    body = <Empty title={m.empty} />;
  } else {
    body = (
      <ul class="messages" data-testid="messages">
        {items.map((n) => (
          <li key={n.id} class={n.read_at ? 'message' : 'message unread'} data-message-id={n.id}>
            <p class="message-head">
              {!n.read_at && <span class="badge unread-dot">{m.unread}</span>} <strong>{n.title}</strong>{' '}
              <span class="muted small">
                <RelativeTime iso={n.created_at} />
              </span>
            </p>
            {n.body && <p class="message-body break">{n.body}</p>}
            <p class="message-actions">
              {n.bug_id !== null && <Link href={`/bugs/${n.bug_id}`}>{m.openBug(n.bug_id)}</Link>}{' '}
              {!n.read_at && (
                <button
                  type="button"
                  class="button ghost small"
                  disabled={model.marking.value}
                  onClick={() => void model.markRead({ ids: [n.id] })}
                >
                  {m.markRead}
                </button>
              )}
            </p>
          </li>
        ))}
      </ul>
    );
  }
  return (
    <section class="message-panel panel" aria-labelledby="messages-title">
      <header class="message-panel-head">
        <h2 id="messages-title" class="section-title">
          {m.title}
        </h2>
        <button
          type="button"
          class="button small"
          disabled={!unread || model.marking.value}
          onClick={() => void model.markAll()}
        >
          {m.markAll}
        </button>
        <button type="button" class="button ghost small" onClick={() => model.close()}>
          {m.close}
        </button>
      </header>
      {model.error.value !== null && items && <ErrorNotice error={model.error.value} />}
      {body}
      {items && model.total.value > items.length && (
        <p class="muted small">{m.more(items.length, model.total.value)}</p>
      )}
    </section>
  );
}
