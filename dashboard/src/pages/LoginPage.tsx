import { useSignal } from '@preact/signals';
import { useStore, useT } from '../state/store';

export function LoginPage() {
  const { session, signIn } = useStore();
  const t = useT();
  const token = useSignal('');
  const reason = session.reason.value;
  const submit = (event: Event) => {
    event.preventDefault();
    void signIn(token.value);
  };
  return (
    <section class="panel login">
      <h1>{t.login.title}</h1>
      <p>{t.login.intro}</p>
      {reason && (
        <p class="notice error" role="alert">
          {reason === 'invalid' ? t.login.invalid : t.login.expired}
        </p>
      )}
      <form onSubmit={submit} class="form">
        <label class="field">
          <span>{t.login.tokenLabel}</span>
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            value={token.value}
            onInput={(e) => (token.value = e.currentTarget.value)}
            required
          />
        </label>
        <button type="submit" class="button primary" disabled={!token.value.trim()}>
          {t.login.submit}
        </button>
      </form>
      <p class="muted small">{t.login.hint}</p>
    </section>
  );
}
