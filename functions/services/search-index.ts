import { sql } from 'drizzle-orm';
import type { Db } from '../lib/db';
import type { BatchRunner, Statement } from '../lib/sql-batch';

/**
 * The search index for `q` (bug_search) takes new bugs after their write, not inside it
 * (migration 0008): FTS5 writes a segment per transaction, so indexing each ingest batch's new
 * bugs cost that batch, and insert-only ingest a third of its rate. Bugs above
 * bug_search_state.indexed_through are matched by LIKE until indexed (services/bugs.ts).
 *
 * One transaction: index every bug above the mark, then move the mark to the newest bug. No
 * other write runs in between (SQLite writes one transaction at a time), so nothing is missed
 * or indexed twice, and two runs at once simply serialise.
 */
const INDEX_NEW_BUGS = [
  `INSERT INTO bug_search (rowid, error_type, error_message)
   SELECT id, error_type, error_message FROM bugs
   WHERE id > (SELECT indexed_through FROM bug_search_state) ORDER BY id`,
  `UPDATE bug_search_state SET indexed_through = (SELECT coalesce(max(id), 0) FROM bugs)
   WHERE indexed_through < (SELECT coalesce(max(id), 0) FROM bugs)`,
];

export const indexNewBugsStatements: Statement[] = INDEX_NEW_BUGS.map((text) => ({ sql: text, args: [] }));

/** Through drizzle: the sweep (both runtimes) and the Worker after a report that made a bug. */
export async function indexNewBugs(db: Db): Promise<void> {
  const [insert, mark] = INDEX_NEW_BUGS.map((text) => db.run(sql.raw(text)));
  await db.batch([insert!, mark!]);
}

/**
 * On Node: new bugs are indexed by the ingest writer a moment after the batch that made them,
 * so a burst of new bugs costs one index transaction per `delayMs`, not one per batch.
 */
export class SearchIndexer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly run: BatchRunner,
    private readonly delayMs = 250,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** A bug was created: index it (and any other new one) within `delayMs`. */
  bugCreated(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.delayMs);
    this.timer.unref?.();
  }

  /** Indexes what is waiting now; the server calls it before closing the writer. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.running;
    this.running = this.run(indexNewBugsStatements)
      .then(() => undefined)
      .catch(this.onError)
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }
}
