/**
 * The generic alert webhook's JSON bodies: one bug's alert, a project's new-bug digest and
 * the test message. This is a contract with programs we do not control, documented in
 * docs/alert-webhook.md and pinned by test/alerts/render.test.ts. The bug object has its own
 * mapper here, so a change to the REST API's bug JSON (toApiBug) cannot change it by accident.
 * Text is sent exactly as reported: JSON needs no escaping.
 */
import type { AlertKind, BugRow } from '../../../../schema';
import {
  type AlertProject,
  type AlertView,
  bugUrl,
  digestSummaryOf,
  projectUrl,
  type RenderConfig,
  summaryOf,
  testSummaryOf,
} from './text';

/** A bug as the webhook sends it. Every field is always present; absent values are null. */
export type WebhookBug = {
  id: number;
  project_id: string;
  fingerprint: string;
  /** runtime, cicd or deployment. */
  source: string;
  /** DEBUG, INFO, WARNING, ERROR or CRITICAL. */
  level: string;
  environment: string;
  /** NEW, FIXING, PENDING_REVIEW, MERGED, DEPLOYED, FAILED or IGNORED. */
  status: string;
  error: {
    type: string;
    message: string;
    file_path: string | null;
    line_number: number | null;
    stack_trace: string[];
  };
  /** The report's context, with sensitive keys already filtered at ingestion. */
  context: Record<string, unknown>;
  version: string | null;
  commit_hash: string | null;
  occurrence_count: number;
  regression_count: number;
  first_seen: string;
  last_seen: string;
  status_changed_at: string;
  pr_number: number | null;
  pr_url: string | null;
  branch_name: string | null;
  merge_commit_sha: string | null;
  merged_at: string | null;
  deployed_at: string | null;
  claimed_by: string | null;
  lease_expires_at: string | null;
};

export type WebhookProject = { id: string; name: string };

/** One bug's alert: new_bug, regression, failed, pr_opened, merged, reminder or recurring. */
export type WebhookMessage = {
  event: AlertKind;
  /** Every kind this message carries, `event` first when several alerts of the bug coalesced. */
  events: AlertKind[];
  project: WebhookProject;
  bug: WebhookBug;
  /** Occurrences since the bug's previous alert; null on its first. */
  occurrences_since_last_alert: number | null;
  /** The bug in the dashboard; null without PUBLIC_URL. */
  url: string | null;
  /** On `failed`, why (the note of the change to FAILED) when there is one; otherwise null. */
  note: string | null;
  summary: string;
  queued_at: string;
};

/** New bugs of one project that arrived within the digest window, sent as one call. */
export type WebhookDigest = {
  event: 'new_bug_digest';
  project: WebhookProject;
  count: number;
  /** Every bug of the digest (the Slack digest lists only the first ones). */
  bugs: WebhookBug[];
  /** The project's bug board; null without PUBLIC_URL. */
  url: string | null;
  summary: string;
};

export type WebhookTest = {
  event: 'test';
  project: WebhookProject;
  url: string | null;
  summary: string;
};

export type WebhookPayload = WebhookMessage | WebhookDigest | WebhookTest;

/** The field names, in the order they are sent. */
export const WEBHOOK_BUG_KEYS = [
  'id',
  'project_id',
  'fingerprint',
  'source',
  'level',
  'environment',
  'status',
  'error',
  'context',
  'version',
  'commit_hash',
  'occurrence_count',
  'regression_count',
  'first_seen',
  'last_seen',
  'status_changed_at',
  'pr_number',
  'pr_url',
  'branch_name',
  'merge_commit_sha',
  'merged_at',
  'deployed_at',
  'claimed_by',
  'lease_expires_at',
] as const satisfies readonly (keyof WebhookBug)[];

export function toWebhookBug(row: BugRow): WebhookBug {
  return {
    id: row.id,
    project_id: row.projectId,
    fingerprint: row.fingerprint,
    source: row.source,
    level: row.level,
    environment: row.environment,
    status: row.status,
    error: {
      type: row.errorType,
      message: row.errorMessage,
      file_path: row.filePath,
      line_number: row.lineNumber,
      stack_trace: row.stackTrace,
    },
    context: row.context,
    version: row.version,
    commit_hash: row.commitHash,
    occurrence_count: row.occurrenceCount,
    regression_count: row.regressionCount,
    first_seen: row.firstSeen,
    last_seen: row.lastSeen,
    status_changed_at: row.statusChangedAt,
    pr_number: row.prNumber,
    pr_url: row.prUrl,
    branch_name: row.branchName,
    merge_commit_sha: row.mergeCommitSha,
    merged_at: row.mergedAt,
    deployed_at: row.deployedAt,
    claimed_by: row.claimedBy,
    lease_expires_at: row.leaseExpiresAt,
  };
}

const projectOf = (project: AlertProject): WebhookProject => ({ id: project.id, name: project.name });

export function webhookMessage(view: AlertView, config: RenderConfig): WebhookMessage {
  return {
    event: view.kind,
    events: view.kinds,
    project: projectOf(view.project),
    bug: toWebhookBug(view.bug),
    occurrences_since_last_alert: view.sinceLast,
    url: bugUrl(config, view.bug.id),
    note: view.note,
    summary: summaryOf(view),
    queued_at: view.queuedAt,
  };
}

export function webhookDigest(project: AlertProject, bugRows: BugRow[], config: RenderConfig): WebhookDigest {
  return {
    event: 'new_bug_digest',
    project: projectOf(project),
    count: bugRows.length,
    bugs: bugRows.map((row) => toWebhookBug(row)),
    url: projectUrl(config, project.id),
    summary: digestSummaryOf(project, bugRows.length),
  };
}

/** `project.name` is what people call it: the project's name, or its id when it has none. */
export function webhookTestMessage(project: AlertProject, config: RenderConfig): WebhookTest {
  return {
    event: 'test',
    project: projectOf(project),
    url: projectUrl(config, project.id),
    summary: testSummaryOf(project),
  };
}
