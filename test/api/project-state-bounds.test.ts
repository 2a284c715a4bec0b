import { describe, expect, it } from 'vitest';
import { LruMap } from '../../functions/lib/lru';
import { ProjectCache } from '../../functions/services/ingest';
import { ProjectSettingsCache, RateLimiter } from '../../functions/services/ingest-gate';
import { openTempDatabase } from '../helpers/database';

/** docs/api.md, limits: per-project state in memory is bounded however many ids clients invent. */
describe('bounded per-project state', () => {
  it('LruMap keeps its bound and evicts the least recently used key', () => {
    const map = new LruMap<string, number>(3);
    for (const key of ['a', 'b', 'c']) map.set(key, 1);
    map.get('a');
    map.set('d', 1);
    expect(map.size).toBe(3);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe(1);
    for (let i = 0; i < 1000; i++) map.set(`k${i}`, i);
    expect(map.size).toBe(3);
  });

  it('RateLimiter and ProjectCache never exceed their bound under rotating ids', () => {
    const limiter = new RateLimiter(Date.now, 100);
    const cache = new ProjectCache(100);
    for (let i = 0; i < 5_000; i++) {
      expect(limiter.take(`rotating_${i}`, 60).ok).toBe(true);
      cache.remember(`rotating_${i}`, null);
    }
    expect(limiter.size).toBe(100);
    expect(cache.size).toBe(100);
    // A busy project stays: its bucket is the most recently used, so its rate still holds.
    let now = 0;
    const busy = new RateLimiter(() => now, 10);
    expect(busy.take('busy', 1).ok).toBe(true);
    for (let i = 0; i < 50; i++) {
      busy.take(`noise_${i}`, 60);
      if (i % 5 === 0) busy.take('busy', 1);
      now += 1;
    }
    expect(busy.take('busy', 1).ok).toBe(false);
  });

  it('ProjectSettingsCache never exceeds its bound, unknown ids included', async () => {
    const temp = await openTempDatabase('settings-bound');
    try {
      const settings = new ProjectSettingsCache(Date.now, 50);
      for (let i = 0; i < 500; i++) expect(await settings.get(temp.handle.db, `unknown_${i}`)).toBeNull();
      expect(settings.size).toBe(50);
    } finally {
      temp.remove();
    }
  });

  it('defaults to 10,000 entries: ten times the default MAX_PROJECTS', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 12_000; i++) limiter.take(`id_${i}`, 60);
    expect(limiter.size).toBe(10_000);
  });
});
