import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../app';
import { drawTrend } from '../components/trend-plot';
import type { Store } from '../state/store';
import { createFakeServer, type FakeServer, makeProject, makeStats } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';

// happy-dom has no canvas; the chart module is checked for what it is given.
vi.mock('../components/trend-plot', () => ({ drawTrend: vi.fn(() => () => {}) }));

let server: FakeServer;
let store: Store;

const trend = [
  { date: '2026-02-23', new: 10, fixed: 8, failed: 1 },
  { date: '2026-02-24', new: 20, fixed: 15, failed: 2 },
  { date: '2026-02-25', new: 30, fixed: 25, failed: 0 },
];

beforeEach(() => {
  localStorage.clear();
  localStorage.setItem('log-center.token', 'secret-token');
  server = createFakeServer({
    projects: [makeProject('rtc_backend'), makeProject('rtc_web')],
    stats: makeStats({
      totals: {
        total: 156,
        by_status: {
          NEW: 12,
          FIXING: 3,
          PENDING_REVIEW: 5,
          MERGED: 20,
          DEPLOYED: 100,
          FAILED: 14,
          IGNORED: 2,
        },
      },
      source_distribution: { runtime: 120, cicd: 30, deployment: 6 },
      projects: [
        {
          project_id: 'rtc_web',
          total: 40,
          by_status: { PENDING_REVIEW: 2, MERGED: 8, DEPLOYED: 30, FAILED: 0 },
        },
        { project_id: 'rtc_backend', total: 116, by_status: { PENDING_REVIEW: 3, MERGED: 12, FAILED: 1 } },
      ],
      trend,
      window: { new: 60, fixed: 48, failed: 3 },
      fix_success_rate: 48 / 51,
      mean_time_to_fix_seconds: 720,
    }),
  });
});

afterEach(() => {
  cleanup();
  store?.dispose();
  vi.mocked(drawTrend).mockClear();
});

async function open(url: string) {
  store = startStore(url, server);
  render(<App store={store} />);
  await settle();
}

describe('stats', () => {
  it('shows the totals, success rate and time to fix for the range', async () => {
    await open('/stats');
    const overall = screen.getByRole('region', { name: '整体指标' });
    expect(within(overall).getByText('60')).toBeTruthy();
    expect(within(overall).getByText('48')).toBeTruthy();
    expect(within(overall).getByText('94.1%')).toBeTruthy();
    expect(within(overall).getByText('12 分钟')).toBeTruthy();
    expect(server.calls.find((c) => c.path === '/api/v1/dashboard/stats')!.query.get('days')).toBe('7');
  });

  it('draws the daily trend with the three series', async () => {
    await open('/stats');
    await waitFor(() => expect(drawTrend).toHaveBeenCalled());
    const [host, points, labels] = vi.mocked(drawTrend).mock.calls[0]!;
    expect(host).toBe(screen.getByTestId('trend-chart'));
    expect(points).toEqual(trend);
    expect(labels).toEqual({ date: '日期', new: '新发现', fixed: '自动修复', failed: '修复失败' });
  });

  it('has per-project and per-source tables', async () => {
    await open('/stats');
    const projects = screen.getByTestId('project-table');
    const rows = [...projects.querySelectorAll('tbody tr')].map((r) => r.textContent);
    expect(rows[0]).toMatch(/^rtc_backend116/);
    expect(rows[1]).toMatch(/^rtc_web40/);
    const sources = screen.getByTestId('source-table');
    expect(within(sources).getByText('76.9%')).toBeTruthy();
    expect(within(sources).getByText('30')).toBeTruthy();
  });

  it('changes the time range through the URL', async () => {
    await open('/stats');
    fireEvent.change(screen.getByLabelText('时间范围'), { target: { value: '30' } });
    await settle();
    expect(window.location.search).toBe('?days=30');
    expect(server.calls.at(-1)!.query.get('days')).toBe('30');
  });
});
