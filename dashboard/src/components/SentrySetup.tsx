import { useSignal } from '@preact/signals';
import type { Project } from '../api/client';
import { SENTRY_SDKS, type SentrySdk, sentrySnippet } from '../lib/sentry';
import { useT } from '../state/store';
import { Snippet } from './Snippet';

/** The project's Sentry DSN and a setup snippet per SDK, or why there is no DSN. */
export function SentrySetup({ project }: { project: Project | null }) {
  const t = useT();
  const s = t.projects.sentry;
  const sdk = useSignal<SentrySdk>(SENTRY_SDKS[0]);
  const dsn = project?.sentry_dsn;

  // A new project gets its DSN once saved; until then there is nothing to copy.
  if (!project) return null;
  let body = null;
  if (!dsn) {
    // The server says why (today: a stored ingest key SDKs would refuse), in its words.
    body = (
      <p class="hint" data-testid="sentry-dsn-hint">
        {s.noDsn} {project.sentry_dsn_hint}
      </p>
    );
  } else {
    body = (
      <>
        <p class="label">{s.dsn}</p>
        <Snippet text={dsn} testId="sentry-dsn" />
        <fieldset class="sdk-picker">
          <legend class="visually-hidden">{s.sdk}</legend>
          {SENTRY_SDKS.map((name) => (
            <button
              key={name}
              type="button"
              class={name === sdk.value ? 'tab active' : 'tab'}
              aria-pressed={name === sdk.value}
              onClick={() => (sdk.value = name)}
            >
              {name}
            </button>
          ))}
        </fieldset>
        <Snippet text={sentrySnippet(sdk.value, dsn)} testId="sentry-snippet" />
      </>
    );
  }

  return (
    <section class="panel" aria-labelledby="sentry">
      <h2 id="sentry" class="section-title">
        {s.title}
      </h2>
      <p>{s.text}</p>
      {body}
    </section>
  );
}
