import { z } from '@hono/zod-openapi';
import { LEVELS, PROJECT_ID_PATTERN } from '../lib/vocabulary';
import { ACTIVITY_KINDS } from '../services/activity';
import { MERGE_STYLES, normalisePath } from '../services/review-policy';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string(),
      request_id: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

export const errorResponse = (description: string) => ({
  content: { 'application/json': { schema: ErrorSchema } },
  description,
});

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

export { json };

const nullableString = z.string().nullable();

export const BugSchema = z
  .object({
    id: z.number().int(),
    project_id: z.string(),
    fingerprint: z.string(),
    source: z.string(),
    level: z.string(),
    environment: z.string(),
    status: z.string(),
    error: z.object({
      type: z.string(),
      message: z.string(),
      file_path: nullableString,
      line_number: z.number().int().nullable(),
      stack_trace: z.array(z.string()),
    }),
    context: z.record(z.string(), z.unknown()),
    version: nullableString,
    commit_hash: nullableString,
    occurrence_count: z.number().int(),
    regression_count: z.number().int(),
    first_seen: z.string(),
    last_seen: z.string(),
    status_changed_at: z.string(),
    pr_number: z.number().int().nullable(),
    pr_url: nullableString,
    branch_name: nullableString,
    merge_commit_sha: nullableString,
    merged_at: nullableString,
    deployed_at: nullableString,
    claimed_by: nullableString,
    lease_expires_at: nullableString,
  })
  .openapi('Bug');

export const OccurrenceSchema = z
  .object({
    id: z.number().int(),
    received_at: z.string(),
    timestamp: z.string(),
    environment: z.string(),
    level: z.string(),
    version: nullableString,
    commit_hash: nullableString,
    message: z.string(),
    stack_trace: z.array(z.string()),
    context: z.record(z.string(), z.unknown()),
  })
  .openapi('Occurrence');

export const HistorySchema = z
  .object({
    id: z.number().int(),
    from_status: nullableString,
    to_status: z.string(),
    actor: z.string(),
    note: nullableString,
    at: z.string(),
  })
  .openapi('StatusChange');

export const RepairReportSchema = z
  .object({
    id: z.number().int(),
    bug_id: z.number().int(),
    agent_id: nullableString,
    analysis: nullableString,
    modified_files: z.array(z.string()),
    diff: nullableString,
    test_passed: z.boolean().nullable(),
    test_output: nullableString,
    branch_name: nullableString,
    pr_number: z.number().int().nullable(),
    pr_url: nullableString,
    duration_ms: z.number().int().nullable(),
    tokens_in: z.number().int().nullable(),
    tokens_out: z.number().int().nullable(),
    model: nullableString,
    created_at: z.string(),
  })
  .openapi('RepairReport');

export const ActivitySchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(ACTIVITY_KINDS),
    actor: z.string().openapi({ description: '`person`, `policy`, `system` or `gitea:<login>`' }),
    body: nullableString,
    data: z.record(z.string(), z.unknown()),
    at: z.string(),
  })
  .openapi('Activity');

export const BugDetailSchema = BugSchema.extend({
  occurrences: z.array(OccurrenceSchema),
  repair_reports: z.array(RepairReportSchema),
  history: z.array(HistorySchema),
  activity: z.array(ActivitySchema).openapi({ description: 'The latest 200 activity rows, oldest first' }),
}).openapi('BugDetail');

/**
 * An alert target: http(s) only, stated as a pattern so the document says it too. Private
 * hosts are refused by the route, since ALERT_ALLOW_PRIVATE_TARGETS decides (docs/lifecycle-and-alerts.md).
 */
const AlertTargetUrl = z
  .string()
  .url()
  .regex(/^https?:\/\//i, 'must be an http or https URL')
  .nullable()
  .optional();

export const AlertSettingsSchema = z
  .object({
    slack_webhook_url: AlertTargetUrl,
    alert_webhook_url: AlertTargetUrl,
    /** Replaces ALERT_EMAIL_TO for this project; empty or null falls back to it. */
    email_recipients: z
      .array(z.email().max(254))
      .max(50)
      .refine((list) => new Set(list.map((a) => a.toLowerCase())).size === list.length, 'must be unique')
      .nullable()
      .optional(),
    dingtalk_webhook_url: AlertTargetUrl,
    dingtalk_secret: z.string().trim().max(200).nullable().optional(),
    wecom_webhook_url: AlertTargetUrl,
    events: z
      .object({
        new_bug: z.boolean().optional(),
        regression: z.boolean().optional(),
        failed: z.boolean().optional(),
        pr_opened: z.boolean().optional(),
        merged: z.boolean().optional(),
      })
      .optional(),
    min_level: z.enum(LEVELS).optional(),
  })
  .openapi('AlertSettings');

export const ReviewSettingsSchema = z
  .object({
    reviewers: z.array(z.string()).openapi({ description: 'Gitea user names asked to review each PR' }),
    merge_style: z.enum(MERGE_STYLES),
    auto_approve: z.object({
      enabled: z.boolean(),
      max_changed_lines: z.number().int(),
      allowed_paths: z.array(z.string()),
      merge: z.boolean(),
    }),
  })
  .openapi('ReviewSettings');

/** Gitea user names: letters, digits, `-`, `_`, `.` (Gitea's own rule), at most 40. */
const GiteaLogin = z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'must be a Gitea user name');

/** A partial update, merged into what is stored (null resets every key to its default). */
export const ReviewSettingsUpdateSchema = z
  .object({
    reviewers: z
      .array(GiteaLogin)
      .max(20)
      .refine((list) => new Set(list.map((n) => n.toLowerCase())).size === list.length, 'must be unique')
      .optional(),
    merge_style: z.enum(MERGE_STYLES).optional(),
    auto_approve: z
      .object({
        enabled: z.boolean().optional(),
        max_changed_lines: z.number().int().min(0).max(100_000).optional(),
        allowed_paths: z
          .array(
            z
              .string()
              .max(500)
              .refine((p) => normalisePath(p) !== null, 'must be a folder or file inside the repository'),
          )
          .max(100)
          .optional(),
        merge: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .openapi('ReviewSettingsUpdate');

export const ProjectSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    name: z.string(),
    repo_url: nullableString,
    local_path: nullableString,
    description: nullableString,
    ingest_key: nullableString,
    rate_limit_per_minute: z.number().int().nullable(),
    test_command: nullableString,
    alert_settings: AlertSettingsSchema,
    review_settings: ReviewSettingsSchema,
    sentry_id: z.number().int().nullable().openapi({ description: 'The project number in its Sentry DSN' }),
    sentry_dsn: nullableString.openapi({ description: 'Give this to a Sentry SDK (docs/sentry.md)' }),
    sentry_dsn_hint: nullableString,
    created_at: z.string(),
    updated_at: z.string(),
    bug_counts: z.object({ total: z.number().int(), by_status: z.record(z.string(), z.number().int()) }),
  })
  .openapi('Project');

export const ProjectIdParam = z.object({
  id: z
    .string()
    .regex(PROJECT_ID_PATTERN)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'rtc_backend' }),
});

export const BugIdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' }, example: 7 }),
});

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({
      items: z.array(item),
      total: z.number().int(),
      page: z.number().int(),
      page_size: z.number().int(),
    })
    .openapi(name);

export const ProjectPageSchema = pageOf(ProjectSchema, 'ProjectPage');

/** `page_size` ≤ 200 as every list (docs/api.md, limits); old readers that ignore paging see the first page. */
export const ProjectPageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  page_size: z.coerce.number().int().min(1).max(200).default(50),
});
