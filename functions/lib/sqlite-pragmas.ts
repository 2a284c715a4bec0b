/** How long a connection waits for a writer in another process (a migration, a second server). */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * The pragmas every connection to a database file starts with: the main client's and the
 * ingest writer thread's. `journal_mode` is kept in the file; the others hold per connection.
 */
export const SQLITE_PRAGMAS = [
  // WAL lets readers (dashboard, list queries) proceed while the ingest batch writes.
  'PRAGMA journal_mode=WAL',
  // In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last commits, not more.
  'PRAGMA synchronous=NORMAL',
  `PRAGMA busy_timeout=${SQLITE_BUSY_TIMEOUT_MS}`,
] as const;
