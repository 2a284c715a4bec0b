import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface TrendPoint {
  date: string;
  new: number;
  fixed: number;
  failed: number;
}

export interface TrendLabels {
  date: string;
  new: string;
  fixed: string;
  failed: string;
}

const COLORS = { new: '#2563eb', fixed: '#16a34a', failed: '#dc2626' };

/** The trend's dates are calendar days; they are placed at local midnight so axis labels match them. */
const dayToSeconds = (day: string) => {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y!, (m ?? 1) - 1, d ?? 1).getTime() / 1000;
};

const DAY = 86_400;
const dayLabel = (seconds: number) => {
  const date = new Date(seconds * 1000);
  return `${date.getMonth() + 1}/${date.getDate()}`;
};

/** Loaded on the stats page only, so the board does not carry the charting library. */
export function drawTrend(host: HTMLElement, trend: TrendPoint[], labels: TrendLabels): () => void {
  const data: uPlot.AlignedData = [
    trend.map((p) => dayToSeconds(p.date)),
    trend.map((p) => p.new),
    trend.map((p) => p.fixed),
    trend.map((p) => p.failed),
  ];
  const line = (key: 'new' | 'fixed' | 'failed'): uPlot.Series => ({
    label: labels[key],
    stroke: COLORS[key],
    width: 2,
    points: { show: true, size: 6 },
  });
  const size = () => ({ width: Math.max(280, host.clientWidth || 640), height: 260 });
  const chart = new uPlot(
    {
      ...size(),
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
      axes: [
        // One tick per day at most: the data is daily, hours would be noise.
        {
          space: 48,
          incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY],
          values: (_u, ticks) => ticks.map(dayLabel),
        },
        // Whole numbers of bugs: no 0.5 ticks on the count axis.
        { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] },
      ],
      series: [
        { label: labels.date, value: (_u, v) => (v == null ? '--' : dayLabel(v)) },
        line('new'),
        line('fixed'),
        line('failed'),
      ],
      cursor: { drag: { x: false, y: false } },
    },
    data,
    host,
  );
  const observer =
    typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => chart.setSize(size()));
  observer?.observe(host);
  return () => {
    observer?.disconnect();
    chart.destroy();
  };
}
