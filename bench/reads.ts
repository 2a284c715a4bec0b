/**
 * The read scenarios of `npm run bench`: the bug list over its filter combinations (search
 * included), the dashboard's statistics and bug pages on a store of BENCH_LIST_BUGS bugs and
 * BENCH_OCCURRENCES occurrences, then the list while reports are being ingested: reports of
 * known bugs (the target), and reports that each make a new bug (the list's worst case).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'libsql';
import { migrateLibsql, openLibsql } from '../functions/lib/db-libsql';
import { indexNewBugsStatements } from '../functions/services/search-index';

export const READ_BUGS = Number(process.env.BENCH_LIST_BUGS ?? 100_000);
export const READ_OCCURRENCES = Number(process.env.BENCH_OCCURRENCES ?? 1_000_000);
/** What people and the dashboard read with: a handful of concurrent readers, not 50. */
export const READ_CONNECTIONS = 4;
/** Reports arriving while the list is read. */
export const INGEST_WHILE_READING_CONNECTIONS = 20;

export interface ReadLoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** What run.ts lends: its server start-up and its load generator (warm-up, then measured). */
export interface ReadBench {
  work: string;
  step(text: string): void;
  startLogCenter(dataDir: string): Promise<{ url: string; peakRss(): number; stop(): Promise<void> }>;
  load(
    url: string,
    kind: 'rotating' | 'unique' | { get: string[] },
    connections: number,
  ): Promise<ReadLoadResult>;
}

const STATUSES = ['NEW', 'FIXING', 'PENDING_REVIEW', 'MERGED', 'DEPLOYED', 'FAILED', 'IGNORED'];
const at = (ms: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', (${ms}) / 1000.0, 'unixepoch')`;

/**
 * The store, written by SQLite itself from recursive CTEs (a few seconds for a million rows,
 * nothing crosses from JavaScript): one bug a minute up to now across 20 projects, 3 sources
 * and the 7 statuses, 50 error types; a "first seen" history row for each and a transition for
 * each bug past NEW; merge times for merged and deployed bugs; occurrences spread over the bugs.
 */
export function readSeedSql(bugs: number, occurrences: number, nowMs: number): string[] {
  const start = nowMs - bugs * 60_000;
  const seen = `${start} + i * 60000`;
  return [
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${bugs - 1})
INSERT INTO bugs (id, project_id, fingerprint, source, level, environment, status, error_type, error_message,
  file_path, line_number, stack_trace, context, occurrence_count, first_seen, last_seen, status_changed_at, merged_at)
SELECT i + 1, 'project_' || (i % 20), 'fp-' || i,
  CASE i % 3 WHEN 0 THEN 'runtime' WHEN 1 THEN 'cicd' ELSE 'deployment' END, 'ERROR', 'production',
  CASE i % 7 ${STATUSES.map((s, k) => `WHEN ${k} THEN '${s}'`).join(' ')} END,
  'Error' || (i % 50), 'message ' || i || ' about user ' || (i % 997), 'app/views.py', i % 500, '[]', '{}',
  (i * 7919) % 1000 + 1, ${at(seen)}, ${at(`${seen} + ((i * 7919) % 1000) * 60000`)}, ${at(`${seen} + 3600000`)},
  CASE WHEN i % 7 IN (3, 4) THEN ${at(`${seen} + 7200000`)} END
FROM n`,
    `INSERT INTO status_history (bug_id, from_status, to_status, actor, note, at)
SELECT id, NULL, 'NEW', 'ingest', 'First seen', first_seen FROM bugs`,
    `INSERT INTO status_history (bug_id, from_status, to_status, actor, at)
SELECT id, 'NEW', status, 'agent', status_changed_at FROM bugs WHERE status <> 'NEW'`,
    `WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < ${occurrences - 1})
INSERT INTO occurrences (bug_id, received_at, occurred_at, environment, level, message, stack_trace, context)
SELECT k % ${bugs} + 1, ${at(`${nowMs} - (${occurrences} - k) * 600`)}, ${at(`${nowMs} - (${occurrences} - k) * 600`)},
  'production', 'ERROR', 'message ' || (k % ${bugs}), '[]', '{}'
FROM n`,
  ];
}

export const LIST_PATHS = [
  '/api/v1/bugs',
  '/api/v1/bugs?status=NEW',
  '/api/v1/bugs?project_id=project_7',
  '/api/v1/bugs?source=cicd&page=20',
  '/api/v1/bugs?sort=occurrence_count',
  '/api/v1/bugs?level=ERROR&environment=production',
  '/api/v1/bugs?q=Error7',
  '/api/v1/bugs?project_id=project_3&status=FAILED&sort=first_seen',
  '/api/v1/bugs?q=user%2042',
  '/api/v1/bugs?status=NEW,FIXING&q=Error1&sort=occurrence_count',
  '/api/v1/bugs?project_id=project_11&q=about%20user%2099',
];

export const STATS_PATHS = [
  '/api/v1/dashboard/stats',
  '/api/v1/dashboard/stats?days=30',
  '/api/v1/dashboard/stats?project_id=project_3',
  '/api/v1/dashboard/stats?source=cicd',
  '/api/v1/dashboard/stats?project_id=project_5&source=runtime&days=14',
];

/** 200 bug pages spread over the store (each with its last 20 occurrences). */
export const detailPaths = (bugs: number) =>
  Array.from({ length: 200 }, (_, i) => `/api/v1/bugs/${Math.floor(((i * 7919) % 200) * (bugs / 200)) + 1}`);

async function seed(file: string, step: ReadBench['step']) {
  const handle = await openLibsql(`file:${file}`);
  await migrateLibsql(handle);
  handle.close();
  const started = Date.now();
  const database = new Database(file);
  database.exec('BEGIN');
  for (const statement of readSeedSql(READ_BUGS, READ_OCCURRENCES, Date.now())) database.exec(statement);
  // What the server's indexer does for bugs that reports create.
  for (const { sql } of indexNewBugsStatements) database.exec(sql);
  database.exec('COMMIT');
  database.close();
  step(`reads: seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export async function readScenarios(bench: ReadBench) {
  const dataDir = join(bench.work, 'reads');
  bench.step(
    `reads: seeding ${READ_BUGS.toLocaleString()} bugs and ${READ_OCCURRENCES.toLocaleString()} occurrences`,
  );
  mkdirSync(dataDir, { recursive: true });
  await seed(join(dataDir, 'log-center.db'), bench.step);
  const server = await bench.startLogCenter(dataDir);
  const each = `${READ_CONNECTIONS} connections`;
  bench.step(`reads: GET /api/v1/bugs over ${LIST_PATHS.length} filter combinations, ${each}`);
  const list = await bench.load(server.url, { get: LIST_PATHS }, READ_CONNECTIONS);
  bench.step(`reads: GET /api/v1/dashboard/stats over ${STATS_PATHS.length} scopes, ${each}`);
  const stats = await bench.load(server.url, { get: STATS_PATHS }, READ_CONNECTIONS);
  bench.step(`reads: GET /api/v1/bugs/{id}, 200 bugs, ${each}`);
  const detail = await bench.load(server.url, { get: detailPaths(READ_BUGS) }, READ_CONNECTIONS);
  bench.step(
    `reads: the list at ${READ_CONNECTIONS} connections while reports arrive at ${INGEST_WHILE_READING_CONNECTIONS}`,
  );
  const [listWhileIngesting, ingestWhileListing] = await Promise.all([
    bench.load(server.url, { get: LIST_PATHS }, READ_CONNECTIONS),
    bench.load(server.url, 'rotating', INGEST_WHILE_READING_CONNECTIONS),
  ]);
  // The floor under the same ingestion: an answer that reads nothing (no database, no read
  // thread) waits as long for the event loop and the CPU that ingestion keeps busy.
  bench.step(`reads: GET /api/health at ${READ_CONNECTIONS} connections while reports arrive (the floor)`);
  const [healthWhileIngesting] = await Promise.all([
    bench.load(server.url, { get: ['/api/health'] }, READ_CONNECTIONS),
    bench.load(server.url, 'rotating', INGEST_WHILE_READING_CONNECTIONS),
  ]);
  // The list's totals and matches are kept while no bug is added and no filtered field changes
  // (services/bugs.ts). Reports that each make a new bug move that mark with every batch: the
  // list counts again on most requests. A figure to know, not a target.
  bench.step(
    `reads: the list at ${READ_CONNECTIONS} connections while every report makes a new bug, at ${INGEST_WHILE_READING_CONNECTIONS}`,
  );
  const [listWhileCreating] = await Promise.all([
    bench.load(server.url, { get: LIST_PATHS }, READ_CONNECTIONS),
    bench.load(server.url, 'unique', INGEST_WHILE_READING_CONNECTIONS),
  ]);
  await server.stop();
  const rssMb = server.peakRss();
  return {
    list: { ...list, rssMb },
    stats: { ...stats, rssMb },
    detail: { ...detail, rssMb },
    listWhileIngesting: { ...listWhileIngesting, rssMb },
    healthWhileIngesting: { ...healthWhileIngesting, rssMb },
    ingestWhileListing: { ...ingestWhileListing, rssMb },
    listWhileCreating: { ...listWhileCreating, rssMb },
  };
}

type Reads = Awaited<ReturnType<typeof readScenarios>>;

/** The table's rows for the reads. */
export function readRows(reads: Reads) {
  const store = `${READ_BUGS.toLocaleString()} bugs, ${READ_OCCURRENCES.toLocaleString()} occurrences`;
  return [
    [
      `GET /api/v1/bugs, ${store}, ${LIST_PATHS.length} filter mixes incl. q (${READ_CONNECTIONS} conn.)`,
      reads.list,
    ],
    [
      `GET /api/v1/dashboard/stats, ${store}, ${STATS_PATHS.length} scopes (${READ_CONNECTIONS} conn.)`,
      reads.stats,
    ],
    [`GET /api/v1/bugs/{id}, ${store} (${READ_CONNECTIONS} conn.)`, reads.detail],
    [`GET /api/v1/bugs as above, while ingesting (${READ_CONNECTIONS} conn.)`, reads.listWhileIngesting],
    [`GET /api/health while ingesting, the floor (${READ_CONNECTIONS} conn.)`, reads.healthWhileIngesting],
    [
      `ingest, 1000 rotating fingerprints, while the list is read (${INGEST_WHILE_READING_CONNECTIONS} conn.)`,
      reads.ingestWhileListing,
    ],
    [
      `GET /api/v1/bugs while every report makes a new bug (${READ_CONNECTIONS} conn.; no target)`,
      reads.listWhileCreating,
    ],
  ] as const;
}

/** Each read target with its figure. */
export function readTargets(reads: Reads) {
  const clean = (r: ReadLoadResult) => r.non2xx === 0 && r.errors === 0;
  return {
    list_p99_under_50ms: { figure: reads.list.p99, met: reads.list.p99 < 50 && clean(reads.list) },
    stats_p99_under_100ms: { figure: reads.stats.p99, met: reads.stats.p99 < 100 && clean(reads.stats) },
    detail_p99_under_20ms: { figure: reads.detail.p99, met: reads.detail.p99 < 20 && clean(reads.detail) },
    list_while_ingesting_p99_under_50ms: {
      figure: reads.listWhileIngesting.p99,
      met: reads.listWhileIngesting.p99 < 50 && clean(reads.listWhileIngesting),
    },
    ingest_while_listing_p99_under_50ms: {
      figure: reads.ingestWhileListing.p99,
      met: reads.ingestWhileListing.p99 < 50 && clean(reads.ingestWhileListing),
    },
  };
}
