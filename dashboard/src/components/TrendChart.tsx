import { useEffect, useRef } from 'preact/hooks';
import type { TrendLabels, TrendPoint } from './trend-plot';

export function TrendChart({ trend, labels }: { trend: TrendPoint[]; labels: TrendLabels }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let destroy: (() => void) | null = null;
    let cancelled = false;
    void import('./trend-plot').then(({ drawTrend }) => {
      if (!cancelled && host.current) destroy = drawTrend(host.current, trend, labels);
    });
    return () => {
      cancelled = true;
      destroy?.();
    };
    // Keyed on the label texts, not the object, which callers rebuild on every render.
  }, [trend, labels.date, labels.new, labels.fixed, labels.failed]);
  return <div class="trend-chart" ref={host} data-testid="trend-chart" />;
}
