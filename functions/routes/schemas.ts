import { z } from '@hono/zod-openapi';
import { LEVELS, PROJECT_ID_PATTERN } from '../lib/vocabulary';

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

export const BugDetailSchema = BugSchema.extend({
  occurrences: z.array(OccurrenceSchema),
  repair_reports: z.array(RepairReportSchema),
  history: z.array(HistorySchema),
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
    events: z
      .object({
        new_bug: z.boolean().optional(),
        regression: z.boolean().optional(),
        failed: z.boolean().optional(),
        pr_opened: z.boolean().optional(),
      })
      .optional(),
    min_level: z.enum(LEVELS).optional(),
  })
  .openapi('AlertSettings');

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
