import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { runtimeReport } from '../helpers/payloads';

// Inside workerd with D1: migration 0005 (the trigram search table and its triggers) applies
// there too, and `q`, the list's plans and the statistics' day ranges run on D1's SQLite.
const TOKEN = 'worker-test-token';
const api = (path: string) =>
  SELF.fetch(`https://log-center.test${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });

async function bug(project: string, key: string, type: string, message: string): Promise<number> {
  const res = await SELF.fetch('https://log-center.test/api/v1/logs/report', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(
      runtimeReport(project, {
        fingerprint: [key],
        error: { type, message, file_path: 'app/search.py', line_number: 1, stack_trace: [] },
      }),
    ),
  });
  expect(res.status).toBe(200);
  return (await res.json<{ id: number }>()).id;
}

const found = async (project: string, q: string) => {
  const res = await api(`/api/v1/bugs?project_id=${project}&q=${encodeURIComponent(q)}`);
  expect(res.status, q).toBe(200);
  const page = await res.json<{ items: { id: number }[]; total: number }>();
  expect(page.items).toHaveLength(page.total);
  return page.items.map((b) => b.id).sort((a, b) => a - b);
};

describe('bug search on Workers with D1', () => {
  it('finds substrings through the trigram index, short text with LIKE, and keeps syntax literal', async () => {
    const project = 'w_search';
    const timeout = await bug(project, 'w1', 'ConnectionError', 'Connection TIMEOUT while reading');
    const quote = await bug(project, 'w2', 'RuntimeError', 'user said "hi" then NEAR(x y) at 100%');
    const cjk = await bug(project, 'w3', '数据库错误', '数据库连接超时');
    expect(await found(project, 'timeout while')).toEqual([timeout]);
    expect(await found(project, 'onnectionErr')).toEqual([timeout]);
    expect(await found(project, '连接超时')).toEqual([cjk]);
    expect(await found(project, '超时')).toEqual([cjk]);
    expect(await found(project, '"hi"')).toEqual([quote]);
    expect(await found(project, 'NEAR(x y)')).toEqual([quote]);
    expect(await found(project, '100%')).toEqual([quote]);
    expect(await found(project, '%')).toEqual([quote]);
    expect(await found(project, 'hi" OR "x')).toEqual([]);
    expect(await found(project, "'; DROP TABLE bugs; --")).toEqual([]);
    expect(await found(project, 'Error')).toEqual([timeout, quote]);
    const deduplicated = await bug(project, 'w1', 'ConnectionError', 'Connection TIMEOUT while reading');
    expect(deduplicated).toBe(timeout);
    expect(await found(project, 'TIMEOUT')).toEqual([timeout]);
  });

  it('answers the statistics with the day ranges built in SQL', async () => {
    const project = 'w_stats';
    await bug(project, 's1', 'StatsError', 'first');
    await bug(project, 's2', 'StatsError', 'second');
    const res = await api(`/api/v1/dashboard/stats?project_id=${project}&days=3`);
    expect(res.status).toBe(200);
    const stats = await res.json<{
      totals: { total: number; by_status: Record<string, number> };
      trend: { date: string; new: number; fixed: number; failed: number }[];
      today: { new: number };
      window: { new: number };
    }>();
    expect(stats.totals).toMatchObject({ total: 2, by_status: { NEW: 2 } });
    expect(stats.trend.map((d) => d.date)).toEqual(
      [2, 1, 0].map((back) => new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10)),
    );
    expect(stats.today.new).toBe(2);
    expect(stats.window.new).toBe(2);
  });
});
