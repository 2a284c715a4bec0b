import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../monitor/src/config';
import type { LogFields } from '../../monitor/src/log';
import { jsonLogger } from '../../monitor/src/log';
import { appLabelsFor, buildAppMap, ProjectDirectory, type ProjectRef } from '../../monitor/src/mapping';
import { logTail } from '../../monitor/src/reporter';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig({ LOG_CENTER_TOKEN: 't' })).toEqual({
      LOG_CENTER_URL: 'http://127.0.0.1:8002',
      LOG_CENTER_TOKEN: 't',
      MONITOR_NAMESPACE: ['default'],
      POLL_SECONDS: 60,
      PROJECTS_REFRESH_SECONDS: 300,
      REQUEST_TIMEOUT_SECONDS: 10,
      LOG_TAIL_LINES: 50,
      ENVIRONMENT: 'production',
      LOG_LEVEL: 'info',
    });
  });

  it('parses namespace lists and "*", and treats empty variables as unset', () => {
    const base = { LOG_CENTER_TOKEN: 't', POLL_SECONDS: '' };
    expect(loadConfig({ ...base, MONITOR_NAMESPACE: ' prod, staging ,prod' }).MONITOR_NAMESPACE).toEqual([
      'prod',
      'staging',
    ]);
    expect(loadConfig({ ...base, MONITOR_NAMESPACE: '*' }).MONITOR_NAMESPACE).toBe('*');
    expect(loadConfig({ ...base, MONITOR_NAMESPACE: 'prod,*' }).MONITOR_NAMESPACE).toBe('*');
    expect(loadConfig({ ...base, LOG_CENTER_URL: 'https://lc.example.com/' }).LOG_CENTER_URL).toBe(
      'https://lc.example.com',
    );
    expect(loadConfig(base).POLL_SECONDS).toBe(60);
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({ MONITOR_NAMESPACE: 'Prod_NS', POLL_SECONDS: '0', LOG_CENTER_URL: 'ftp://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const key of ['LOG_CENTER_TOKEN', 'MONITOR_NAMESPACE', 'POLL_SECONDS', 'LOG_CENTER_URL']) {
      expect(problems).toContain(key);
    }
  });
});

describe('app label mapping', () => {
  it('derives the dashed label and its -dev variant from a project id', () => {
    expect(appLabelsFor('rtc_backend')).toEqual([
      { label: 'rtc-backend', dev: false },
      { label: 'rtc-backend-dev', dev: true },
      { label: 'rtc_backend', dev: false },
    ]);
    const map = buildAppMap([
      { projectId: 'log_center_api' },
      { projectId: 'rtc_web', ingestKey: 'k-123456' },
    ]);
    expect(map.get('log-center-api')).toEqual({ projectId: 'log_center_api', dev: false });
    expect(map.get('log-center-api-dev')).toEqual({ projectId: 'log_center_api', dev: true });
    expect(map.get('rtc-web-dev')).toEqual({ projectId: 'rtc_web', ingestKey: 'k-123456', dev: true });
    expect(map.get('unknown')).toBeUndefined();
  });

  it('prefers a project named by the label over another project’s -dev variant', () => {
    for (const order of [
      ['rtc_backend', 'rtc_backend_dev'],
      ['rtc_backend_dev', 'rtc_backend'],
    ]) {
      const map = buildAppMap(order.map((projectId) => ({ projectId })));
      expect(map.get('rtc-backend-dev')).toEqual({ projectId: 'rtc_backend_dev', dev: false });
    }
  });

  it('refreshes on its interval and keeps the last mapping when Log Center fails', async () => {
    let clock = 0;
    let answer: ProjectRef[] | Error = [{ projectId: 'a_b' }];
    let calls = 0;
    const logged: LogFields[] = [];
    const directory = new ProjectDirectory(
      {
        listProjects: async () => {
          calls++;
          if (answer instanceof Error) throw answer;
          return answer;
        },
      },
      60_000,
      jsonLogger({ write: (line) => logged.push(JSON.parse(line)) }),
      () => clock,
    );

    await directory.ensureFresh();
    expect(directory.resolve('a-b')?.projectId).toBe('a_b');
    answer = [{ projectId: 'a_b' }, { projectId: 'c_d' }];
    clock = 59_000;
    await directory.ensureFresh();
    expect(calls).toBe(1);
    expect(directory.resolve('c-d')).toBeUndefined();

    clock = 60_000;
    await directory.ensureFresh();
    expect(calls).toBe(2);
    expect(directory.resolve('c-d')?.projectId).toBe('c_d');

    answer = new Error('connection refused');
    clock = 200_000;
    await expect(directory.ensureFresh()).resolves.toBeUndefined();
    expect(directory.resolve('c-d')?.projectId).toBe('c_d');
    expect(logged.at(-1)).toMatchObject({ level: 'warn', error: 'connection refused' });
    // a failed refresh is retried on the next scan, not a whole interval later
    clock = 200_001;
    await directory.ensureFresh();
    expect(calls).toBe(4);
  });

  it('throws when there has never been a mapping', async () => {
    const directory = new ProjectDirectory(
      { listProjects: () => Promise.reject(new Error('down')) },
      60_000,
      jsonLogger({ write: () => {} }),
    );
    await expect(directory.ensureFresh()).rejects.toThrow('down');
  });
});

describe('logTail', () => {
  it('keeps the last lines and caps very long ones', () => {
    const log = `${Array.from({ length: 80 }, (_, i) => `l${i + 1}`).join('\n')}\n`;
    const tail = logTail(log, 50);
    expect(tail).toHaveLength(50);
    expect(tail[0]).toBe('l31');
    expect(tail.at(-1)).toBe('l80');
    const [long] = logTail('x'.repeat(10_000), 50);
    expect(long).toHaveLength(2000 + '… [line truncated]'.length);
    expect(logTail('', 50)).toEqual([]);
    expect(logTail('a\r\nb\r\n', 50)).toEqual(['a', 'b']);
  });
});
