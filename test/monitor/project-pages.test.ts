import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLogger } from '../../monitor/src/log';
import { ProjectDirectory } from '../../monitor/src/mapping';
import { LogCenterClient } from '../../monitor/src/reporter';
import { projects } from '../../schema';
import { type LogCenterHandle, startLogCenter } from '../helpers/server';

/** GET /api/v1/projects answers pages (docs/api.md, limits); the monitor must map apps on every page. */
describe('project mapping over a paginated project list', () => {
  let lc: LogCenterHandle;
  beforeAll(async () => {
    lc = await startLogCenter();
    const now = new Date().toISOString();
    const rows: (typeof projects.$inferInsert)[] = Array.from({ length: 249 }, (_, i) => ({
      id: `app_${String(i).padStart(3, '0')}`,
      createdAt: now,
      updatedAt: now,
    }));
    // Sorts after every app_NNN id: the last project of page 2.
    rows.push({ id: 'zz_late_service', createdAt: now, updatedAt: now, ingestKey: 'late_service_key' });
    await lc.server.deps.db.insert(projects).values(rows);
  });
  afterAll(() => lc.stop());

  const logger = jsonLogger({ level: 'error', write: () => {} });

  it('follows the pages, so a project on page 2 still maps its app label', async () => {
    const client = new LogCenterClient({ baseUrl: lc.url, token: lc.token, timeoutMs: 5_000 });
    const listed = await client.listProjects();
    expect(listed).toHaveLength(250);
    const directory = new ProjectDirectory(client, 60_000, logger);
    await directory.ensureFresh();
    expect(directory.resolve('zz-late-service')).toEqual({
      projectId: 'zz_late_service',
      ingestKey: 'late_service_key',
      dev: false,
    });
    expect(directory.resolve('app-201-dev')).toMatchObject({ projectId: 'app_201', dev: true });
  });

  it('still reads an older server that answers the whole list without page fields', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ items: [{ id: 'old_one' }, { project_id: 'old_two' }], total: 2 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const client = new LogCenterClient({
        baseUrl: `http://127.0.0.1:${port}`,
        token: 't',
        timeoutMs: 5_000,
      });
      expect(await client.listProjects()).toEqual([{ projectId: 'old_one' }, { projectId: 'old_two' }]);
    } finally {
      server.close();
    }
  });
});
