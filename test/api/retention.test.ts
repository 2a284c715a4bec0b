import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/lib/config';
import { PURGE_CHUNK } from '../../functions/lib/db';
import type { LibsqlHandle } from '../../functions/lib/db-libsql';
import { sweep } from '../../functions/services/lifecycle';
import { startLogCenterApp } from '../helpers/app';
import { openTempDatabase, type TempDatabase } from '../helpers/database';
import { runtimeReport } from '../helpers/payloads';
import { BugPageSchema, bodyAs } from '../helpers/server';

let database: TempDatabase;
let handle: LibsqlHandle;
beforeAll(async () => {
  database = await openTempDatabase('retention');
  handle = database.handle;
});
afterAll(() => database.remove());

const count = async (sql: string) => Number((await handle.client.execute(sql)).rows[0]!.n);

describe('retention purge', () => {
  it('purges a backlog larger than one chunk, in chunks, and keeps what is recent', async () => {
    const old = 2 * PURGE_CHUNK + 1;
    await handle.client.batch([
      `INSERT INTO projects (id, created_at, updated_at) VALUES ('ret', '2026-01-01', '2026-01-01')`,
      `INSERT INTO bugs (project_id, fingerprint, source, level, environment, status, error_type, error_message,
         stack_trace, context, occurrence_count, first_seen, last_seen, status_changed_at)
       VALUES ('ret', 'ret-fp', 'runtime', 'ERROR', 'production', 'NEW', 'ValueError', 'm', '[]', '{}',
         ${old + 3}, '2026-01-01', '2026-11-23', '2026-01-01')`,
      // A long downtime: months of occurrences past retention, and three from today.
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${old})
       INSERT INTO occurrences (bug_id, received_at, occurred_at, environment, level, message, stack_trace, context)
       SELECT (SELECT id FROM bugs WHERE fingerprint = 'ret-fp'), '2026-01-01T00:00:00.000Z',
         '2026-01-01T00:00:00.000Z', 'production', 'ERROR', 'old ' || i, '[]', '{}' FROM n`,
      `INSERT INTO occurrences (bug_id, received_at, occurred_at, environment, level, message, stack_trace, context)
       SELECT id, '2026-11-23T09:00:00.000Z', '2026-11-23T09:00:00.000Z', 'production', 'ERROR', 'new', '[]', '{}'
       FROM bugs, (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) WHERE fingerprint = 'ret-fp'`,
    ]);

    const result = await sweep(handle.db, {
      retentionDays: 30,
      now: new Date('2026-11-23T10:00:00.000Z'),
      alerts: parseConfig({}),
    });

    expect(result.occurrences_purged).toBe(old);
    expect(await count(`SELECT count(*) AS n FROM occurrences`)).toBe(3);
    expect(await count(`SELECT count(*) AS n FROM occurrences WHERE message = 'new'`)).toBe(3);
  });
});

describe('LIBSQL_URL as a plain file path', () => {
  it('stores reports through the writer thread and shuts down', async () => {
    const plain = await startLogCenterApp({ env: { LIBSQL_URL: join(database.dir, 'plain.db') } });
    expect(plain.server.databaseUrl).toBe(join(database.dir, 'plain.db'));
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        plain.report(runtimeReport('plain_path'), { signal: AbortSignal.timeout(10_000) }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const list = await bodyAs(BugPageSchema, await plain.api('/api/v1/bugs?project_id=plain_path'));
    expect(list.items[0]?.occurrence_count).toBe(20);
    await plain.stop();
  });
});
