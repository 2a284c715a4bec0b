import { afterEach, describe, expect, it } from 'vitest';
import { createFakeServer, makeBug } from '../testing/fake-api';
import { settle, startStore } from '../testing/setup';
import { boardHref, DEFAULT_FILTERS, parseBoardQuery } from './board';
import type { Store } from './store';

let store: Store;
afterEach(() => store?.dispose());

describe('board filters and URLs', () => {
  it('round-trips filters through the query string, leaving defaults out', () => {
    const filters = {
      ...DEFAULT_FILTERS,
      status: 'FAILED' as const,
      source: 'cicd' as const,
      q: 'npm',
      page: 3,
    };
    const href = boardHref(filters);
    expect(href).toBe('/?status=FAILED&source=cicd&q=npm&page=3');
    expect(parseBoardQuery(new URL(href, 'http://x').searchParams)).toEqual(filters);
    expect(boardHref(DEFAULT_FILTERS)).toBe('/');
  });

  it('ignores values it does not know instead of sending them to the API', () => {
    expect(parseBoardQuery(new URLSearchParams('status=BOGUS&source=email&page=-2&sort=random'))).toEqual(
      DEFAULT_FILTERS,
    );
  });
});

describe('board model', () => {
  it('keeps the newest filter when an older answer arrives late', async () => {
    const server = createFakeServer({
      bugs: [makeBug({ id: 1, source: 'runtime' }), makeBug({ id: 2, source: 'cicd' })],
    });
    let releaseSlow: () => void = () => {};
    server.hold = (path, query) => {
      // The runtime-filtered list is slow to answer.
      if (path === '/api/v1/bugs' && query.get('source') === 'runtime' && !query.has('page_size', '10')) {
        return new Promise<void>((resolve) => (releaseSlow = resolve));
      }
    };
    localStorage.setItem('log-center.token', server.token);
    store = startStore('/?source=runtime', server);
    await settle();
    store.board.show({ source: 'cicd' });
    await settle();
    releaseSlow();
    await settle();
    expect(store.board.filters.value.source).toBe('cicd');
    expect(store.board.list.value!.items.map((b) => b.id)).toEqual([2]);
  });

  it("keeps the list when today's counts cannot be had", async () => {
    const server = createFakeServer({ bugs: [makeBug({ id: 1 })] });
    const fetchList = server.fetch;
    localStorage.setItem('log-center.token', server.token);
    store = startStore('/', {
      ...server,
      fetch: async (input, init) =>
        String(input).includes('/dashboard/stats')
          ? new Response('{"error":{"code":"internal_error","message":"x","request_id":"r"}}', {
              status: 500,
            })
          : fetchList(input, init),
    });
    await settle();
    expect(store.board.error.value).toBeNull();
    expect(store.board.list.value!.total).toBe(1);
    expect(store.board.today.value).toBeNull();
  });
});
