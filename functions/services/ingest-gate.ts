import type { AlertSettings } from '../../schema';
import type { Db } from '../lib/db';
import { LruMap, PROJECT_STATE_ENTRIES } from '../lib/lru';
import { getProjectRow } from './projects';

export interface ProjectIngestSettings {
  ingestKey: string | null;
  rateLimitPerMinute: number | null;
  alertSettings: AlertSettings | null;
}

const SETTINGS_TTL_MS = 5_000;

/**
 * Ingest-key, rate and alert settings per project, cached briefly so the hot path does no
 * per-request project look-up; edits made through this process are seen at once. Bounded
 * (least recently used out first): unknown ids cached as null must not grow it without end.
 */
export class ProjectSettingsCache {
  private readonly entries: LruMap<string, { at: number; value: ProjectIngestSettings | null }>;

  constructor(
    private readonly now: () => number = Date.now,
    maxEntries = PROJECT_STATE_ENTRIES,
  ) {
    this.entries = new LruMap(maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }

  async get(db: Db, projectId: string): Promise<ProjectIngestSettings | null> {
    const hit = this.entries.get(projectId);
    if (hit && this.now() - hit.at < SETTINGS_TTL_MS) return hit.value;
    const row = await getProjectRow(db, projectId);
    const value = row
      ? {
          ingestKey: row.ingestKey,
          rateLimitPerMinute: row.rateLimitPerMinute,
          alertSettings: row.alertSettings,
        }
      : null;
    this.entries.set(projectId, { at: this.now(), value });
    return value;
  }

  invalidate(projectId: string): void {
    this.entries.delete(projectId);
  }
}

/**
 * Token bucket per project: `perMinute` reports a minute on average with bursts up to a
 * minute's worth, so one noisy project cannot starve the write path for the others.
 * In-process: on Workers each isolate keeps its own buckets, an approximate limit. Bounded
 * (least recently used out first); an evicted project starts again with a full bucket, which
 * only the quietest of more than `maxEntries` projects can be.
 */
export class RateLimiter {
  private readonly buckets: LruMap<string, { tokens: number; at: number }>;

  constructor(
    private readonly now: () => number = Date.now,
    maxEntries = PROJECT_STATE_ENTRIES,
  ) {
    this.buckets = new LruMap(maxEntries);
  }

  get size(): number {
    return this.buckets.size;
  }

  take(key: string, perMinute: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    if (perMinute <= 0) return { ok: true };
    const now = this.now();
    const perMs = perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }
}
