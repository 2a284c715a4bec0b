import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateLibsql, openLibsql } from '../../functions/lib/db-libsql';
import { runtimeReport } from '../helpers/payloads';

const dataDir = mkdtempSync(join(tmpdir(), 'log-center-sigterm-'));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function startNodeEntry(): Promise<{ url: string; output: () => string }> {
  child = spawn(process.execPath, ['--import', 'tsx', 'functions/node.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      LOG_CENTER_DATA_DIR: dataDir,
      LOG_CENTER_API_TOKEN: '',
      RATE_LIMIT_PER_MINUTE: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line: ${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(/listening on (http:\/\/\S+)/);
      if (match && out.includes('Dashboard:')) {
        clearTimeout(timer);
        resolve({ url: match[1]!, output: () => out });
      }
    };
    child!.stdout!.on('data', onData);
    child!.stderr!.on('data', onData);
  });
}

describe('npm start entry', () => {
  it('prints a generated token with a login link, and SIGTERM loses no answered report', async () => {
    const { url, output } = await startNodeEntry();
    const token = output().match(/API token \(generated in the data directory\): (\S+)/)?.[1];
    expect(token).toBeTruthy();
    expect(output()).toContain(`/?token=${token}`);

    const send = (i: number) =>
      fetch(`${url}/api/v1/logs/report`, {
        method: 'POST',
        body: JSON.stringify(
          runtimeReport('shutdown_proj', { error: { ...runtimeReport('x').error, line_number: i % 7 } }),
        ),
      }).then(
        (r) => r.status,
        () => 0,
      );
    const warm = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i)));
    expect(warm.every((s) => s === 200)).toBe(true);
    // Reports still in flight when the signal arrives must be committed before their answer.
    let answered = 0;
    const sent = Array.from({ length: 300 }, (_, i) => send(i).finally(() => answered++));
    await expect.poll(() => answered, { interval: 1 }).toBeGreaterThan(10);
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child!.kill('SIGTERM');
    const statuses = await Promise.all(sent);
    expect(await exited).toBe(0);
    expect(output()).toContain('Stopped cleanly');

    const ok = warm.length + statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(10);
    // the rest were refused at the socket (0), never answered 2xx and dropped
    expect(statuses.every((s) => s === 200 || s === 0 || s === 503)).toBe(true);
    const handle = await openLibsql(`file:${join(dataDir, 'log-center.db')}`);
    await migrateLibsql(handle);
    const rows = await handle.client.execute(
      "SELECT sum(occurrence_count) AS n FROM bugs WHERE project_id = 'shutdown_proj'",
    );
    handle.close();
    expect(Number(rows.rows[0]!.n)).toBe(ok);
  });
});
