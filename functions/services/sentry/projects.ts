import { eq } from 'drizzle-orm';
import { projects } from '../../../schema';
import type { Db } from '../../lib/db';

/** The project a DSN's number names, or undefined. */
export async function findProjectIdBySentryId(db: Db, sentryId: number): Promise<string | undefined> {
  const [row] = await db
    .select({ id: projects.id })
    .from(projects)
    .where(eq(projects.sentryId, sentryId))
    .limit(1);
  return row?.id;
}

/** A number not yet assigned may be a project about to be created: asked again after this. */
const MISS_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

/**
 * Sentry id → project id, cached so an SDK's steady stream of envelopes does no look-up.
 * A hit never goes stale (the database refuses to change a project's sentry_id and no route
 * deletes projects); a miss is asked again after a few seconds. Bounded, oldest out first.
 */
export class SentryProjectCache {
  private readonly entries = new Map<number, { id: string | undefined; at: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = MAX_ENTRIES,
  ) {}

  async projectId(db: Db, sentryId: number): Promise<string | undefined> {
    const hit = this.entries.get(sentryId);
    if (hit && (hit.id !== undefined || this.now() - hit.at < MISS_TTL_MS)) return hit.id;
    const id = await findProjectIdBySentryId(db, sentryId);
    this.entries.delete(sentryId);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(sentryId, { id, at: this.now() });
    return id;
  }
}

const cacheByDb = new WeakMap<Db, SentryProjectCache>();

/**
 * The cache for a database handle. Deps has no slot for it yet, so it hangs off the handle:
 * the Node server's one long-lived handle keeps it; a Worker's per-request handle gets a
 * fresh one that is collected with the handle.
 */
export function sentryProjectsFor(db: Db): SentryProjectCache {
  let cache = cacheByDb.get(db);
  if (!cache) {
    cache = new SentryProjectCache();
    cacheByDb.set(db, cache);
  }
  return cache;
}
