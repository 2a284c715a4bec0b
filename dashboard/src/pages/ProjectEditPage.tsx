import type { JSX } from 'preact';
import { ApiError } from '../api/client';
import { MERGE_STYLES, type MergeStyle } from '../api/review';
import { ErrorNotice, errorText, Loading } from '../components/Feedback';
import { Link } from '../components/Link';
import { SentrySetup } from '../components/SentrySetup';
import { Snippet } from '../components/Snippet';
import { LEVELS, type Level } from '../lib/status';
import { ALERT_EVENTS, generateIngestKey, type ProjectDraft } from '../state/projects';
import { useStore, useT } from '../state/store';
import { apiOrigin } from './BoardPage';
import { registrationCommand } from './ProjectsPage';

type TextField = {
  [K in keyof ProjectDraft]: ProjectDraft[K] extends string ? K : never;
}[keyof ProjectDraft];

function Field({
  name,
  path = name,
  label,
  hint,
  multiline,
  type = 'text',
  children,
}: {
  name: TextField;
  path?: string;
  label: string;
  hint?: string;
  multiline?: boolean;
  type?: string;
  children?: JSX.Element;
}) {
  const { editor } = useStore();
  const t = useT();
  const value = editor.draft.value[name] as string;
  const problems = editor.problems.value;
  const local = problems.local[path];
  const problem = local ? t.projects.problems[local] : problems.server[path];
  const id = `field-${name}`;
  const onInput = (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) =>
    editor.edit({ [name]: e.currentTarget.value } as Partial<ProjectDraft>);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="field-row">
        {multiline ? (
          <textarea id={id} name={name} value={value} rows={3} onInput={onInput} />
        ) : (
          <input
            id={id}
            name={name}
            type={type}
            value={value}
            onInput={onInput}
            aria-invalid={Boolean(problem)}
          />
        )}
        {children}
      </div>
      {problem && <p class="field-error">{problem}</p>}
      {hint && <p class="muted small">{hint}</p>}
    </div>
  );
}

export function ProjectEditPage() {
  const { editor, env } = useStore();
  const t = useT();
  const p = t.projects;
  const e = p.fields;
  const id = editor.id.value;
  const draft = editor.draft.value;

  let body = null;
  if (editor.error.value) {
    body = <ErrorNotice error={editor.error.value} onRetry={() => id && void editor.open(id)} />;
  } else if (editor.loading.value || !id) {
    body = <Loading />;
  } else {
    const saveError = editor.saveError.value;
    body = (
      <>
        {editor.creating.value && <p class="notice">{p.creatingHint}</p>}
        <form
          class="form project-form"
          onSubmit={(event) => {
            event.preventDefault();
            void editor.save();
          }}
        >
          <fieldset>
            <legend>{p.sections.basics}</legend>
            <Field name="name" label={e.name} />
            <Field name="repo_url" label={e.repo_url} hint={e.repoHint} />
            <Field name="description" label={e.description} multiline />
          </fieldset>
          <fieldset>
            <legend>{p.sections.repair}</legend>
            <Field name="local_path" label={e.local_path} hint={e.localPathHint} />
            <Field name="test_command" label={e.test_command} />
          </fieldset>
          <fieldset>
            <legend>{p.sections.ingest}</legend>
            <Field name="ingest_key" label={e.ingest_key} hint={e.ingestHint}>
              <button
                type="button"
                class="button small"
                onClick={() => editor.edit({ ingest_key: generateIngestKey() })}
              >
                {e.generate}
              </button>
            </Field>
            <Field name="rate_limit_per_minute" label={e.rate_limit} hint={e.rateHint} type="number" />
          </fieldset>
          <fieldset>
            <legend>{p.sections.alerts}</legend>
            <Field
              name="slack_webhook_url"
              path="alert_settings.slack_webhook_url"
              label={e.slack}
              type="url"
            />
            <Field
              name="alert_webhook_url"
              path="alert_settings.alert_webhook_url"
              label={e.webhook}
              type="url"
            />
            <div class="field">
              <span class="label">{e.events}</span>
              <div class="checks">
                {ALERT_EVENTS.map((event) => (
                  <label key={event} class="check">
                    <input
                      type="checkbox"
                      checked={draft.events[event]}
                      onChange={(ev) =>
                        editor.edit({ events: { ...draft.events, [event]: ev.currentTarget.checked } })
                      }
                    />
                    {e.eventNames[event]}
                  </label>
                ))}
              </div>
            </div>
            <div class="field">
              <label for="field-min-level">{e.minLevel}</label>
              <select
                id="field-min-level"
                value={draft.min_level}
                onChange={(ev) => editor.edit({ min_level: ev.currentTarget.value as Level | '' })}
              >
                <option value="">{e.anyLevel}</option>
                {LEVELS.map((level) => (
                  <option key={level} value={level}>
                    {level}
                  </option>
                ))}
              </select>
            </div>
          </fieldset>
          <fieldset>
            <legend>{p.sections.notify}</legend>
            <Field
              name="email_recipients"
              path="alert_settings.email_recipients"
              label={e.emailRecipients}
              hint={e.emailHint}
            />
            <Field
              name="dingtalk_webhook_url"
              path="alert_settings.dingtalk_webhook_url"
              label={e.dingtalk}
              type="url"
            />
            <Field
              name="dingtalk_secret"
              path="alert_settings.dingtalk_secret"
              label={e.dingtalkSecret}
              hint={e.dingtalkHint}
              type="password"
            />
            <Field
              name="wecom_webhook_url"
              path="alert_settings.wecom_webhook_url"
              label={e.wecom}
              type="url"
            />
          </fieldset>
          <fieldset>
            <legend>{p.sections.review}</legend>
            <Field
              name="reviewers"
              path="review_settings.reviewers"
              label={e.reviewers}
              hint={e.reviewersHint}
            />
            <div class="field">
              <label for="field-merge-style">{e.mergeStyle}</label>
              <select
                id="field-merge-style"
                value={draft.merge_style}
                onChange={(ev) => editor.edit({ merge_style: ev.currentTarget.value as MergeStyle })}
              >
                {MERGE_STYLES.map((style) => (
                  <option key={style} value={style}>
                    {t.mergeStyles[style]}
                  </option>
                ))}
              </select>
            </div>
            <fieldset class="nested">
              <legend>{e.autoApprove}</legend>
              <label class="check">
                <input
                  type="checkbox"
                  checked={draft.auto_enabled}
                  onChange={(ev) => editor.edit({ auto_enabled: ev.currentTarget.checked })}
                />
                {e.autoEnabled}
              </label>
              <Field
                name="auto_max_lines"
                path="review_settings.auto_approve.max_changed_lines"
                label={e.autoMaxLines}
                type="number"
              />
              <Field
                name="auto_paths"
                path="review_settings.auto_approve.allowed_paths"
                label={e.autoPaths}
                hint={e.autoPathsHint}
                multiline
              />
              <label class="check">
                <input
                  type="checkbox"
                  checked={draft.auto_merge}
                  onChange={(ev) => editor.edit({ auto_merge: ev.currentTarget.checked })}
                />
                {e.autoMerge}
              </label>
            </fieldset>
          </fieldset>
          <div class="form-actions">
            <button type="submit" class="button primary" disabled={editor.saving.value}>
              {editor.saving.value ? t.common.working : editor.creating.value ? p.createSave : p.save}
            </button>
            {editor.saved.value && !editor.dirty.value && (
              <span class="notice ok" role="status">
                {p.saved}
              </span>
            )}
            {saveError !== null && (
              <span class="notice error" role="alert">
                {saveError instanceof ApiError && saveError.code === 'validation_failed'
                  ? p.fixFields
                  : errorText(t, saveError)}
              </span>
            )}
          </div>
        </form>
        <SentrySetup project={editor.project.value} />
        <section class="panel" aria-labelledby="register">
          <h2 id="register" class="section-title">
            {p.snippetTitle}
          </h2>
          <p>{p.snippetText}</p>
          <Snippet
            text={registrationCommand(apiOrigin(env.apiBase), id, {
              repoUrl: editor.project.value?.repo_url,
              ingestKey: editor.project.value?.ingest_key,
            })}
          />
        </section>
      </>
    );
  }

  return (
    <section class="page project" aria-busy={editor.loading.value}>
      <header class="page-head">
        <Link href="/projects">← {p.back}</Link>
        <h1>{editor.creating.value ? p.newProjectTitle(id ?? '') : p.projectTitle(id ?? '')}</h1>
      </header>
      {body}
    </section>
  );
}
