import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectSchema } from '../../functions/routes/schemas';
import { startLogCenterApp } from '../helpers/app';
import { cicdReport, deploymentReport, runtimeReport } from '../helpers/payloads';
import {
  type ApiProject,
  BugPageSchema,
  bodyAs,
  type LogCenterHandle,
  uniqueProject,
} from '../helpers/server';

let lc: LogCenterHandle;
beforeAll(async () => {
  lc = await startLogCenterApp();
});
afterAll(() => lc.stop());

const bugs = async (query: string) => bodyAs(BugPageSchema, await lc.api(`/api/v1/bugs?${query}`));
const projectNamed = async (id: string) => bodyAs(ProjectSchema, await lc.api(`/api/v1/projects/${id}`));

describe('projects', () => {
  it('lists auto-created projects with bug counts and edits their metadata', async () => {
    const project = uniqueProject();
    await lc.report(runtimeReport(project));
    await lc.report(cicdReport(project));

    const list: { items: ApiProject[] } = await (await lc.api('/api/v1/projects')).json();
    const listed = list.items.find((p) => p.id === project);
    expect(listed).toMatchObject({
      id: project,
      project_id: project,
      name: project,
      bug_counts: { total: 2 },
    });
    expect(listed?.bug_counts.by_status).toEqual({ NEW: 2 });

    const put = await lc.api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      body: JSON.stringify({
        name: '实时通信后端',
        repo_url: 'https://gitea.airlabs.art/team/rtc.git',
        local_path: '/srv/rtc',
        description: '项目描述',
      }),
    });
    expect(put.status).toBe(200);
    expect(await bodyAs(ProjectSchema, put)).toMatchObject({
      name: '实时通信后端',
      local_path: '/srv/rtc',
      description: '项目描述',
    });
    const again = await projectNamed(project);
    expect(again.repo_url).toBe('https://gitea.airlabs.art/team/rtc.git');

    // a later report's repo_url does not overwrite one the project already has
    await lc.report(runtimeReport(project, { repo_url: 'https://elsewhere/x.git' }));
    expect((await projectNamed(project)).repo_url).toBe('https://gitea.airlabs.art/team/rtc.git');
  });

  it('creates a project on PUT when it does not exist', async () => {
    const project = uniqueProject();
    const res = await lc.api(`/api/v1/projects/${project}`, {
      method: 'PUT',
      body: JSON.stringify({ name: 'New' }),
    });
    expect(res.status).toBe(200);
    expect((await projectNamed(project)).name).toBe('New');
  });

  it('answers 404 for an unknown project and 422 for bad fields', async () => {
    expect((await lc.api('/api/v1/projects/does-not-exist')).status).toBe(404);
    const bad = await lc.api(`/api/v1/projects/${uniqueProject()}`, {
      method: 'PUT',
      body: JSON.stringify({ name: 5, unknown_field: true }),
    });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error.code).toBe('validation_failed');
    const malformed = await lc.api(`/api/v1/projects/${uniqueProject()}`, { method: 'PUT', body: '{oops' });
    expect(malformed.status).toBe(400);
  });
});

describe('bug list', () => {
  it('filters by project, status and source and paginates', async () => {
    const project = uniqueProject();
    for (let i = 0; i < 5; i++) {
      await lc.report(runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: i } }));
    }
    await lc.report(cicdReport(project));
    await lc.report(deploymentReport(project));

    const all = await bugs(`project_id=${project}`);
    expect(all.total).toBe(7);
    const runtime = await bugs(`project_id=${project}&source=runtime&page_size=2&page=2`);
    expect(runtime).toMatchObject({ total: 5, page: 2, page_size: 2 });
    expect(runtime.items).toHaveLength(2);
    const lastPage = await bugs(`project_id=${project}&source=runtime&page_size=2&page=3`);
    expect(lastPage.items).toHaveLength(1);
    const cicd = await bugs(`project_id=${project}&source=cicd`);
    expect(cicd.items.map((b) => b.source)).toEqual(['cicd']);
    const statusNew = await bugs(`project_id=${project}&status=NEW`);
    expect(statusNew.total).toBe(7);
    const statusFixing = await bugs(`project_id=${project}&status=FIXING`);
    expect(statusFixing.total).toBe(0);
  });

  it('sorts newest first by last_seen', async () => {
    const project = uniqueProject();
    const a = await (
      await lc.report(runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: 1 } }))
    ).json();
    const b = await (
      await lc.report(runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: 2 } }))
    ).json();
    await new Promise((r) => setTimeout(r, 5));
    await lc.report(runtimeReport(project, { error: { ...runtimeReport(project).error, line_number: 1 } }));
    const list = await bugs(`project_id=${project}`);
    expect(list.items.map((x) => x.id)).toEqual([a.id, b.id]);
  });

  it('rejects bad list parameters and unknown ids', async () => {
    expect((await lc.api('/api/v1/bugs?page_size=500')).status).toBe(422);
    expect((await lc.api('/api/v1/bugs?source=mainframe')).status).toBe(422);
    expect((await lc.api('/api/v1/bugs/999999')).status).toBe(404);
    expect((await lc.api('/api/v1/bugs/abc')).status).toBe(422);
  });
});
