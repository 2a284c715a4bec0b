import { LruMap, PROJECT_STATE_ENTRIES } from '../lib/lru';
import type { BatchRunner, Statement } from '../lib/sql-batch';
import type { Status } from '../lib/vocabulary';
import type { NormalisedReport } from './report';
import { assertAllowed } from './transitions';

export const OCCURRENCES_KEPT = 100;

/** `project_limit`: the report named a new project past MAX_PROJECTS; nothing was stored (id 0). */
export type IngestOutcome = 'new' | 'dedup' | 'regression' | 'project_limit';

export interface IngestResult {
  id: number;
  outcome: IngestOutcome;
  status: string;
}

/**
 * A report as the pipeline submits it: with the MAX_PROJECTS in force, which the write checks
 * in SQL (absent: no limit, as for scripts and tests that write directly).
 */
export type AdmittedReport = NormalisedReport & { maxProjects?: number };

/** The answer bodies of docs/api.md; clients parse these exact strings. */
export function ingestAnswer(result: IngestResult) {
  switch (result.outcome) {
    case 'new':
      return { message: 'Log reported', id: result.id };
    case 'regression':
      return { message: 'Regression detected, reopened', id: result.id };
    default:
      return { message: 'Log deduplicated', id: result.id, status: result.status };
  }
}

/** Anything that stores reports: direct per request (Workers) or group commit (Node). */
export interface ReportSink {
  /** `bytes`: what the report holds in memory, for sinks that bound it (measured when absent). */
  submit(report: AdmittedReport, bytes?: number): Promise<IngestResult>;
  drain?(): Promise<void>;
}

interface Group {
  reports: AdmittedReport[];
  indexes: number[];
}

/**
 * Splits reports into rounds in which every fingerprint appears in one group only (the
 * batch-level statements below rely on it); a second report of a fingerprint with a
 * different commit goes to the next round, because the commit decides a MERGED reopen.
 */
function planRounds(reports: AdmittedReport[]): Group[][] {
  const rounds: Map<string, Group>[] = [];
  /** The round holding each fingerprint's latest report: later reports never go before it. */
  const lastRound = new Map<string, number>();
  reports.forEach((report, index) => {
    const previous = lastRound.get(report.fingerprint);
    let at = previous ?? 0;
    if (
      previous !== undefined &&
      rounds[previous]!.get(report.fingerprint)!.reports[0]!.commitHash !== report.commitHash
    )
      at = previous + 1;
    rounds[at] ??= new Map();
    const round = rounds[at]!;
    const group = round.get(report.fingerprint) ?? { reports: [], indexes: [] };
    group.reports.push(report);
    group.indexes.push(index);
    round.set(report.fingerprint, group);
    lastRound.set(report.fingerprint, at);
  });
  return rounds.map((round) => [...round.values()]);
}

/**
 * The moves this upsert makes itself, without a read: the transition table must allow them
 * (checked when the module loads; services/transitions.ts owns every other move).
 */
export const INGEST_REOPENS: { from: Status[]; to: Status } = { from: ['DEPLOYED', 'MERGED'], to: 'NEW' };
assertAllowed(INGEST_REOPENS.from, [INGEST_REOPENS.to]);

// A DEPLOYED bug that recurs is reopened; a MERGED one only when the report runs the merge
// commit itself (the fix is live there and did not work). Short hashes match by prefix.
const REOPEN = `(status = 'DEPLOYED' OR (status = 'MERGED' AND length(excluded.commit_hash) >= 7
  AND substr(merge_commit_sha, 1, length(excluded.commit_hash)) = excluded.commit_hash))`;

/**
 * Dedup happens inside this one statement, never read-then-write. Unqualified columns in
 * DO UPDATE are the stored row, and every SET expression sees it as it was before the
 * update, so `status` is assigned last only for readability.
 */
const UPSERT_BUG = `INSERT INTO bugs (project_id, fingerprint, source, level, environment, status, error_type,
  error_message, file_path, line_number, stack_trace, context, version, commit_hash, occurrence_count,
  regression_count, first_seen, last_seen, lease_expiry_count, status_changed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, ?)
ON CONFLICT (fingerprint) DO UPDATE SET
  occurrence_count = occurrence_count + excluded.occurrence_count,
  last_seen = max(last_seen, excluded.last_seen),
  version = coalesce(excluded.version, version),
  commit_hash = coalesce(excluded.commit_hash, commit_hash),
  reopened_from = CASE WHEN ${REOPEN} THEN status END,
  regression_count = regression_count + CASE WHEN ${REOPEN} THEN 1 ELSE 0 END,
  status_changed_at = CASE WHEN ${REOPEN} THEN excluded.last_seen ELSE status_changed_at END,
  lease_expiry_count = CASE WHEN ${REOPEN} THEN 0 ELSE lease_expiry_count END,
  status = CASE WHEN ${REOPEN} THEN 'NEW' ELSE status END
RETURNING id, status, occurrence_count, reopened_from`;

/**
 * The same upsert for a bug whose project this batch may just have refused to create: it
 * inserts nothing (and returns no row) when the project does not exist.
 */
const UPSERT_BUG_IF_PROJECT = UPSERT_BUG.replace(
  /VALUES \(([^)]*)\)/,
  'SELECT $1 WHERE EXISTS (SELECT 1 FROM projects WHERE id = ?)',
);

function upsertBug(group: Group, projectMayBeMissing: boolean): Statement {
  const first = group.reports[0]!;
  const last = group.reports[group.reports.length - 1]!;
  const args = [
    first.projectId,
    first.fingerprint,
    first.source,
    first.level,
    first.environment,
    first.initialStatus,
    first.errorType,
    first.message,
    first.filePath,
    first.lineNumber,
    first.stackJson,
    first.contextJson,
    last.version,
    last.commitHash,
    group.reports.length,
    first.receivedAt,
    last.receivedAt,
    first.receivedAt,
  ];
  return projectMayBeMissing
    ? { sql: UPSERT_BUG_IF_PROJECT, args: [...args, first.projectId] }
    : { sql: UPSERT_BUG, args };
}

/**
 * Creates a project only while fewer than the limit exist (a NULL limit: no limit), counted
 * inside the write: batches are serialised transactions and statements run in order, so
 * concurrent new ids cannot overshoot. An existing project always passes (its repo_url may
 * still be filled in).
 */
const UPSERT_PROJECT = `INSERT INTO projects (id, repo_url, created_at, updated_at)
SELECT ?, ?, ?, ? FROM (SELECT count(*) AS n FROM projects) AS c
WHERE c.n < coalesce(?, c.n + 1) OR EXISTS (SELECT 1 FROM projects p WHERE p.id = ?)
ON CONFLICT (id) DO UPDATE SET repo_url = excluded.repo_url, updated_at = excluded.updated_at
WHERE projects.repo_url IS NULL AND excluded.repo_url IS NOT NULL`;

/**
 * `g(fp, k, at, alert)`: each group's fingerprint, report count, time and whether it may
 * queue an alert, for the batch-wide statements below.
 */
const groupArgs = (groups: Group[]) =>
  groups.flatMap((g) => {
    const first = g.reports[0]!;
    return [first.fingerprint, g.reports.length, first.receivedAt, first.alert ? 1 : 0];
  });

/**
 * Batch-wide statements differ only in their number of groups; their text is built once per
 * size, so the hot path neither rebuilds it nor makes the writer prepare it again. Their
 * arguments are short (fingerprints and times), so the prepared statements the writer keeps
 * hold little.
 */
const sqlBySize = new Map<string, string>();
function groupSql(kind: string, groups: Group[], body: string): string {
  const key = `${kind}:${groups.length}`;
  let sql = sqlBySize.get(key);
  if (sql === undefined) {
    sql = `WITH g(fp, k, at, alert) AS (VALUES ${Array(groups.length).fill('(?, ?, ?, ?)').join(', ')}) ${body}`;
    sqlBySize.set(key, sql);
  }
  return sql;
}

// A group created the bug when its count equals the group size; reopened_from is set only
// by the upsert that reopened it. Both statements run after all upserts of the batch.
const JUST_CREATED_OR_REOPENED = 'b.reopened_from IS NOT NULL OR b.occurrence_count = g.k';

const HISTORY_INSERT = `INSERT INTO status_history (bug_id, from_status, to_status, actor, note, at)
  SELECT b.id, b.reopened_from, b.status, 'ingest',
    CASE WHEN b.reopened_from IS NOT NULL THEN 'Regression detected, reopened'
         WHEN b.status = 'IGNORED' THEN 'Project registration report' ELSE 'First seen' END, g.at
  FROM g JOIN bugs b ON b.fingerprint = g.fp WHERE ${JUST_CREATED_OR_REOPENED}`;

/**
 * A new bug or a regression queues an alert in the same batch (IGNORED bugs never alert, and
 * nothing is queued where no alert target is configured).
 */
const ALERT_INSERT = `INSERT INTO alert_outbox (bug_id, project_id, kind, state, attempts, next_attempt_at, created_at)
  SELECT b.id, b.project_id, CASE WHEN b.reopened_from IS NOT NULL THEN 'regression' ELSE 'new_bug' END,
    'pending', 0, g.at, g.at
  FROM g JOIN bugs b ON b.fingerprint = g.fp
  WHERE g.alert = 1 AND b.status <> 'IGNORED' AND (${JUST_CREATED_OR_REOPENED})`;

/**
 * One occurrence per statement, always the same statement. A prepared statement keeps the
 * values last bound to it: a batch-wide insert, cached for each batch size, would keep up to a
 * whole batch of stack traces per size alive in the writer (hundreds of MB under large reports).
 */
const OCCURRENCE_INSERT = `INSERT INTO occurrences (bug_id, received_at, occurred_at, environment, level, version,
  commit_hash, message, stack_trace, context)
SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM bugs WHERE fingerprint = ?`;

function occurrenceInserts(reports: AdmittedReport[], indexes: number[]): Statement[] {
  return indexes.map((index) => {
    const r = reports[index]!;
    return {
      sql: OCCURRENCE_INSERT,
      args: [
        r.receivedAt,
        r.occurredAt,
        r.environment,
        r.level,
        r.version,
        r.commitHash,
        r.message,
        r.stackJson,
        r.contextJson,
        r.fingerprint,
      ],
    };
  });
}

/**
 * Keeps the newest OCCURRENCES_KEPT occurrences per bug. Trimming runs when a bug's count
 * crosses a multiple of TRIM_STEP, so a bug holds at most OCCURRENCES_KEPT + TRIM_STEP rows
 * and the delete is paid once per TRIM_STEP reports, not on each.
 */
export const TRIM_STEP = 10;

const OCCURRENCES_TRIM = `DELETE FROM occurrences
  WHERE bug_id IN (SELECT b.id FROM g JOIN bugs b ON b.fingerprint = g.fp
    WHERE b.occurrence_count > ${OCCURRENCES_KEPT}
      AND b.occurrence_count / ${TRIM_STEP} <> (b.occurrence_count - CAST(g.k AS INTEGER)) / ${TRIM_STEP})
    AND id < (SELECT i.id FROM occurrences i WHERE i.bug_id = occurrences.bug_id
      ORDER BY i.id DESC LIMIT 1 OFFSET ${OCCURRENCES_KEPT - 1})`;

interface UpsertRow {
  id: number;
  status: string;
  occurrence_count: number;
  reopened_from: string | null;
}

/**
 * Stores reports atomically: project rows, one bug upsert per fingerprint, history and
 * alerts as batch-wide statements, one insert per occurrence, then the history cap.
 * Returns one result per report, in order. A report whose new project the limit refused gets
 * outcome `project_limit` while the rest of its batch is stored: its bug upsert finds no
 * project and inserts nothing, so nothing joins on it either.
 */
export async function writeReports(
  run: BatchRunner,
  reports: AdmittedReport[],
  knownProjects?: ProjectCache,
): Promise<IngestResult[]> {
  const results: IngestResult[] = new Array(reports.length);
  for (const groups of planRounds(reports)) {
    const statements: Statement[] = [];
    /** Projects upserted in this round: they may not exist yet, and may be refused. */
    const upserted = new Set<string>();
    for (const group of groups) {
      const report = group.reports[0]!;
      if (upserted.has(report.projectId) || knownProjects?.isSettled(report.projectId, report.repoUrl))
        continue;
      upserted.add(report.projectId);
      const repoUrl = group.reports.find((r) => r.repoUrl)?.repoUrl ?? null;
      statements.push({
        sql: UPSERT_PROJECT,
        args: [
          report.projectId,
          repoUrl,
          report.receivedAt,
          report.receivedAt,
          report.maxProjects ?? null,
          report.projectId,
        ],
      });
    }
    const firstUpsert = statements.length;
    for (const group of groups) statements.push(upsertBug(group, upserted.has(group.reports[0]!.projectId)));
    const roundReports = groups.flatMap((g) => g.reports);
    const perGroup = groupArgs(groups);
    statements.push(
      { sql: groupSql('history', groups, HISTORY_INSERT), args: perGroup },
      { sql: groupSql('alerts', groups, ALERT_INSERT), args: perGroup },
      ...occurrenceInserts(
        reports,
        groups.flatMap((g) => g.indexes),
      ),
      { sql: groupSql('trim', groups, OCCURRENCES_TRIM), args: perGroup },
    );

    const outputs = await run(statements);
    const refused = new Set<string>();
    groups.forEach((group, g) => {
      const row = outputs[firstUpsert + g]![0] as unknown as UpsertRow | undefined;
      if (!row) {
        refused.add(group.reports[0]!.projectId);
        for (const reportIndex of group.indexes)
          results[reportIndex] = { id: 0, outcome: 'project_limit', status: '' };
        return;
      }
      group.indexes.forEach((reportIndex, k) => {
        let outcome: IngestOutcome = 'dedup';
        if (k === 0 && Number(row.occurrence_count) === group.reports.length) outcome = 'new';
        else if (k === 0 && row.reopened_from) outcome = 'regression';
        results[reportIndex] = { id: Number(row.id), outcome, status: row.status };
      });
    });
    for (const report of roundReports)
      if (!refused.has(report.projectId)) knownProjects?.remember(report.projectId, report.repoUrl);
  }
  return results;
}

/**
 * Remembers projects that exist and already have a repo_url (or were given none), so the
 * hot path skips the project upsert. A miss only costs one idempotent statement, so the
 * cache is bounded (least recently used out first).
 */
export class ProjectCache {
  private readonly settled: LruMap<string, boolean>;

  constructor(maxEntries = PROJECT_STATE_ENTRIES) {
    this.settled = new LruMap(maxEntries);
  }

  get size(): number {
    return this.settled.size;
  }

  isSettled(projectId: string, repoUrl: string | null): boolean {
    const hasRepo = this.settled.get(projectId);
    if (hasRepo === undefined) return false;
    return hasRepo || !repoUrl;
  }

  remember(projectId: string, repoUrl: string | null): void {
    if (!this.settled.get(projectId)) this.settled.set(projectId, Boolean(repoUrl));
  }

  forget(projectId: string): void {
    this.settled.delete(projectId);
  }
}

export class DirectSink implements ReportSink {
  constructor(
    private readonly run: BatchRunner,
    private readonly knownProjects?: ProjectCache,
  ) {}

  async submit(report: AdmittedReport): Promise<IngestResult> {
    const [result] = await writeReports(this.run, [report], this.knownProjects);
    return result!;
  }
}

/** The raw SQL of the write path, for the test that holds its column lists to the drizzle tables. */
export const INGEST_SQL = {
  upsertBug: UPSERT_BUG,
  upsertBugIfProject: UPSERT_BUG_IF_PROJECT,
  upsertProject: UPSERT_PROJECT,
  history: HISTORY_INSERT,
  alerts: ALERT_INSERT,
  occurrence: OCCURRENCE_INSERT,
} as const;
