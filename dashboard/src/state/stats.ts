import { computed, signal } from '@preact/signals';
import type { Api, Stats } from '../api/client';
import { isSource, SOURCES, type Source } from '../lib/status';
import { hrefWith, type Router } from './router';

export const RANGES = [1, 7, 14, 30, 90] as const;
export const DEFAULT_RANGE = 7;

export interface StatsFilters {
  days: number;
  project: string | null;
  source: Source | null;
}

export function parseStatsQuery(query: URLSearchParams): StatsFilters {
  const days = Number(query.get('days'));
  const source = query.get('source');
  return {
    days: (RANGES as readonly number[]).includes(days) ? days : DEFAULT_RANGE,
    project: query.get('project') || null,
    source: isSource(source) ? source : null,
  };
}

export const statsHref = (f: StatsFilters) =>
  hrefWith('/stats', {
    days: f.days === DEFAULT_RANGE ? null : f.days,
    project: f.project,
    source: f.source,
  });

export function createStatsModel(api: Api, router: Router) {
  const filters = signal<StatsFilters>(parseStatsQuery(new URLSearchParams()));
  const data = signal<Stats | null>(null);
  const loading = signal(false);
  const error = signal<unknown>(null);

  const sources = computed(() => {
    const distribution = data.value?.source_distribution;
    if (!distribution) return [];
    const total = SOURCES.reduce((sum, s) => sum + (distribution[s] ?? 0), 0);
    return SOURCES.map((source) => {
      const count = distribution[source] ?? 0;
      return { source, count, share: total ? count / total : 0 };
    });
  });
  /** Busiest projects first: the ones that need attention lead the table. */
  const projects = computed(() => [...(data.value?.projects ?? [])].sort((a, b) => b.total - a.total));

  let latest = 0;

  async function load(query: URLSearchParams) {
    const f = parseStatsQuery(query);
    filters.value = f;
    const ticket = ++latest;
    loading.value = true;
    error.value = null;
    try {
      const stats = await api.stats({
        days: String(f.days),
        project_id: f.project ?? undefined,
        source: f.source ?? undefined,
      });
      if (ticket === latest) data.value = stats;
    } catch (cause) {
      if (ticket === latest) error.value = cause;
    } finally {
      if (ticket === latest) loading.value = false;
    }
  }

  function reset() {
    latest++;
    data.value = null;
    loading.value = false;
    error.value = null;
  }

  return {
    filters,
    data,
    loading,
    error,
    sources,
    projects,
    load,
    reload: () => load(router.query.value),
    show: (patch: Partial<StatsFilters>) => router.navigate(statsHref({ ...filters.value, ...patch })),
    reset,
  };
}

export type StatsModel = ReturnType<typeof createStatsModel>;
