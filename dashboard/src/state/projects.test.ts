import { afterEach, describe, expect, it } from 'vitest';
import { INGEST_KEY_PATTERN } from '../../../functions/services/sentry/auth';
import { createFakeServer, makeProject } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';
import { draftOf, draftProblems, generateIngestKey, INGEST_KEY, updateOf } from './projects';
import type { Store } from './store';

let store: Store;
afterEach(() => store?.dispose());

describe('project drafts', () => {
  it('turns empty fields into nulls, so clearing a field clears it on the server', () => {
    const draft = draftOf(makeProject('p', { repo_url: 'https://x/r.git', ingest_key: 'k'.repeat(12) }));
    const update = updateOf({ ...draft, repo_url: '  ', ingest_key: '', rate_limit_per_minute: '120' });
    expect(update).toMatchObject({ repo_url: null, ingest_key: null, rate_limit_per_minute: 120, name: 'p' });
  });

  it('flags what the server would refuse', () => {
    const draft = {
      ...draftOf(null),
      ingest_key: 'short',
      rate_limit_per_minute: '1.5',
      slack_webhook_url: 'x',
    };
    expect(draftProblems(draft)).toEqual({
      ingest_key: 'ingest_key_short',
      rate_limit_per_minute: 'rate_limit',
      'alert_settings.slack_webhook_url': 'url',
    });
  });

  it('takes only ingest keys that fit a Sentry DSN, as the server does', () => {
    const problem = (ingest_key: string) => draftProblems({ ...draftOf(null), ingest_key }).ingest_key;
    expect(INGEST_KEY.source).toBe(INGEST_KEY_PATTERN.source);
    expect(problem('')).toBeUndefined();
    expect(problem('abc_DEF_123')).toBeUndefined();
    expect(problem('k'.repeat(200))).toBeUndefined();
    expect(problem('abc1234')).toBe('ingest_key_short');
    expect(problem('k'.repeat(201))).toBe('ingest_key_format');
    expect(problem('has-a-dash')).toBe('ingest_key_format');
    expect(problem('has.a.dot')).toBe('ingest_key_format');
    expect(problem('with space inside')).toBe('ingest_key_format');
    for (let i = 0; i < 20; i++) expect(problem(generateIngestKey())).toBeUndefined();
  });
});

describe('project editor', () => {
  it("shows the server's field errors next to the fields", async () => {
    const server = createFakeServer({ projects: [makeProject('p')] });
    localStorage.setItem('log-center.token', server.token);
    store = startStore('/projects/p', server);
    await settle();
    // A key the form would catch; sent directly to show what a server refusal looks like.
    store.editor.edit({ ingest_key: 'abcdefgh' });
    const original = store.api.saveProject;
    store.api.saveProject = (id, body) => original(id, { ...body, ingest_key: 'tiny' });
    await store.editor.save();
    expect(store.editor.problems.value.server).toEqual({
      ingest_key: 'must be 8-200 letters, digits or underscores (it goes into the Sentry DSN)',
    });
    expect(store.editor.saved.value).toBe(false);
  });

  it('creates a project that does not exist yet', async () => {
    const server = createFakeServer();
    localStorage.setItem('log-center.token', server.token);
    store = startStore('/projects/fresh', server);
    await settle();
    expect(store.editor.creating.value).toBe(true);
    store.editor.edit({ name: 'Fresh' });
    await store.editor.save();
    expect(server.projects.map((p) => [p.project_id, p.name])).toEqual([['fresh', 'Fresh']]);
    expect(store.editor.creating.value).toBe(false);
  });
});

describe('projects model', () => {
  it('loads every page of projects, for the filter and the projects page', async () => {
    const many = Array.from({ length: 250 }, (_, i) => makeProject(`p${String(i).padStart(3, '0')}`));
    const server = createFakeServer({ projects: many });
    localStorage.setItem('log-center.token', server.token);
    store = startStore('/projects', server);
    await settle();
    expect(store.projects.ids.value).toHaveLength(250);
    expect(store.projects.ids.value.at(-1)).toBe('p249');
    const pages = server.calls.filter((c) => c.path === '/api/v1/projects').map((c) => c.query.get('page'));
    // Page 1 is the plain URL, as before pagination; the store loads the list twice here.
    expect(new Set(pages)).toEqual(new Set([null, '2', '3', '4', '5']));
  });
});
