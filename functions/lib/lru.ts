/**
 * Per-key state held in memory must stay bounded however many keys clients invent (docs/api.md, limits):
 * a Map in insertion order where a read moves the key to the back, so the key evicted at the
 * bound is the one least recently used. A dependency would weigh more in the Worker bundle
 * than these few lines.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new Error('LruMap needs room for at least one entry');
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): this {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as K);
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }
}

/** The default bound of per-project caches: ten times the default MAX_PROJECTS. */
export const PROJECT_STATE_ENTRIES = 10_000;
