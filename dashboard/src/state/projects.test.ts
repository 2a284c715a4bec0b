import { afterEach, describe, expect, it } from 'vitest';
import { createFakeServer, makeProject } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';
import { draftOf, draftProblems, updateOf } from './projects';
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
      ingest_key: 'Too small: expected string to have >=8 characters',
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
