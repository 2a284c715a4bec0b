import { computed, signal } from '@preact/signals';
import type { Api, BugPage, BugQuery, Stats } from '../api/client';
import { type BugStatus, isSource, isStatus, type Source } from '../lib/status';
import { hrefWith, type Router } from './router';

export const BOARD_PAGE_SIZE = 25;
/** Bugs waiting for review shown above the list; more are one click away on their tab. */
export const NEEDS_ACTION_LIMIT = 10;
export const BOARD_SORTS = ['last_seen', 'first_seen', 'occurrence_count'] as const;
export type BoardSort = (typeof BOARD_SORTS)[number];

/**
 * "All" shows open work: bugs waiting for review get their own section on top, and ignored
 * bugs (muted on purpose, and every project's registration report) have their own tab.
 */
const ALL_LISTED: readonly BugStatus[] = ['NEW', 'FIXING', 'MERGED', 'DEPLOYED', 'FAILED'];

export interface BoardFilters {
  status: BugStatus | null;
  source: Source | null;
  project: string | null;
  q: string;
  sort: BoardSort;
  page: number;
}

export const DEFAULT_FILTERS: BoardFilters = {
  status: null,
  source: null,
  project: null,
  q: '',
  sort: 'last_seen',
  page: 1,
};

export function parseBoardQuery(query: URLSearchParams): BoardFilters {
  const status = query.get('status');
  const source = query.get('source');
  const sort = query.get('sort');
  const page = Number(query.get('page'));
  return {
    status: isStatus(status) ? status : null,
    source: isSource(source) ? source : null,
    project: query.get('project') || null,
    q: (query.get('q') ?? '').trim(),
    sort: BOARD_SORTS.includes(sort as BoardSort) ? (sort as BoardSort) : 'last_seen',
    page: Number.isInteger(page) && page > 1 ? page : 1,
  };
}

export function boardHref(filters: BoardFilters): string {
  return hrefWith('/', {
    status: filters.status,
    source: filters.source,
    project: filters.project,
    q: filters.q,
    sort: filters.sort === 'last_seen' ? null : filters.sort,
    page: filters.page > 1 ? filters.page : null,
  });
}

export function createBoardModel(api: Api, router: Router) {
  const filters = signal<BoardFilters>(DEFAULT_FILTERS);
  const list = signal<BugPage | null>(null);
  const needsAction = signal<BugPage | null>(null);
  const today = signal<Stats['today'] | null>(null);
  const loading = signal(false);
  const error = signal<unknown>(null);

  const pageCount = computed(() => {
    const page = list.value;
    return page ? Math.max(1, Math.ceil(page.total / page.page_size)) : 1;
  });
  const filtered = computed(() => {
    const f = filters.value;
    return Boolean(f.status || f.source || f.project || f.q);
  });
  /** Nothing reported yet at all: the board explains how to send a first report. */
  const firstRun = computed(
    () =>
      !filtered.value &&
      list.value?.total === 0 &&
      (needsAction.value?.total ?? 0) === 0 &&
      Object.values(today.value?.by_status ?? {}).every((n) => !n),
  );
  /** The URL of the board as last shown, so "back to the list" keeps the filters. */
  const href = computed(() => boardHref(filters.value));

  let latest = 0;

  async function load(query: URLSearchParams) {
    const f = parseBoardQuery(query);
    filters.value = f;
    const ticket = ++latest;
    loading.value = true;
    error.value = null;
    const scope: BugQuery = {
      project_id: f.project ?? undefined,
      source: f.source ?? undefined,
      q: f.q || undefined,
    };
    const showNeedsAction = f.status === null && f.page === 1;
    const [main, waiting, stats] = await Promise.allSettled([
      api.listBugs({
        ...scope,
        status: (f.status ? [f.status] : ALL_LISTED).join(','),
        sort: f.sort,
        page: String(f.page),
        page_size: String(BOARD_PAGE_SIZE),
      }),
      showNeedsAction
        ? api.listBugs({ ...scope, status: 'PENDING_REVIEW', page_size: String(NEEDS_ACTION_LIMIT) })
        : Promise.resolve(null),
      api.stats({ days: '1', project_id: scope.project_id, source: scope.source }),
    ]);
    // A slower answer to an older filter must not overwrite the current one.
    if (ticket !== latest) return;
    loading.value = false;
    if (main.status === 'rejected') {
      error.value = main.reason;
      return;
    }
    list.value = main.value;
    needsAction.value = waiting.status === 'fulfilled' ? waiting.value : null;
    // The counts are a summary; the list stays useful when they cannot be had.
    today.value = stats.status === 'fulfilled' ? stats.value.today : null;
  }

  function show(patch: Partial<BoardFilters>) {
    // Any change of filter starts again from page 1 unless it names a page.
    router.navigate(boardHref({ ...filters.value, page: 1, ...patch }));
  }

  function reset() {
    latest++;
    filters.value = DEFAULT_FILTERS;
    list.value = null;
    needsAction.value = null;
    today.value = null;
    loading.value = false;
    error.value = null;
  }

  return {
    filters,
    list,
    needsAction,
    today,
    loading,
    error,
    pageCount,
    filtered,
    firstRun,
    href,
    load,
    reload: () => load(router.query.value),
    show,
    reset,
  };
}

export type BoardModel = ReturnType<typeof createBoardModel>;
