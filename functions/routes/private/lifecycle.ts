import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { parseJsonBody, validationFailed } from '../../lib/errors';
import { parseStatus, SOURCES } from '../../lib/vocabulary';
import { getBugRow, listBugs, toApiBug, toApiRepairReport } from '../../services/bugs';
import { addRepairReport, claimBugs, setPrInfo, sweep } from '../../services/lifecycle';
import { afterPendingReview } from '../../services/review';
import { moveBug, queuesAlert } from '../../services/transitions';
import { BugIdParam, BugSchema, errorResponse, json, RepairReportSchema } from '../schemas';

const StatusBody = z
  .object({
    status: z
      .string()
      .openapi({ example: 'FAILED', description: 'A status, or a legacy name (FIXED, FIX_FAILED, ...)' }),
    note: z.string().max(4000).nullish(),
    actor: z.string().max(200).nullish().openapi({ description: 'Who made the change; defaults to "user"' }),
  })
  .openapi('StatusChangeRequest');

const putStatus = createRoute({
  method: 'put',
  path: '/bugs/{id}/status',
  tags: ['Lifecycle'],
  summary: 'Change a bug status (checked against the transition table, recorded in history)',
  request: {
    params: BugIdParam,
    body: { content: { 'application/json': { schema: StatusBody } }, required: true },
  },
  responses: {
    200: json(BugSchema, 'Updated bug'),
    404: errorResponse('Unknown bug'),
    409: errorResponse('Transition not allowed (invalid_transition)'),
    422: errorResponse('Unknown status'),
  },
});

const PrInfoBody = z
  .object({
    pr_number: z.coerce.number().int().positive().nullish(),
    pr_url: z.string().url().max(2048).nullish(),
    branch_name: z.string().max(255).nullish(),
  })
  .openapi('PrInfo');

const putPrInfo = createRoute({
  method: 'put',
  path: '/bugs/{id}/pr-info',
  tags: ['Lifecycle'],
  summary: 'Attach the pull request to a bug (JSON body or query parameters)',
  request: { params: BugIdParam, query: PrInfoBody },
  responses: { 200: json(BugSchema, 'Updated bug'), 404: errorResponse('Unknown bug') },
});

const RepairReportBody = z
  .object({
    agent_id: z.string().max(200).nullish(),
    analysis: z.string().max(64_000).nullish(),
    modified_files: z.array(z.string().max(1024)).max(1000).default([]),
    diff: z.string().max(512_000).nullish(),
    test_passed: z.boolean().nullish(),
    test_output: z.string().max(128_000).nullish(),
    branch_name: z.string().max(255).nullish(),
    pr_number: z.number().int().positive().nullish(),
    pr_url: z.string().url().max(2048).nullish(),
    duration_ms: z.number().int().nonnegative().nullish(),
    tokens_in: z.number().int().nonnegative().nullish(),
    tokens_out: z.number().int().nonnegative().nullish(),
    model: z.string().max(200).nullish(),
  })
  .openapi('RepairReportRequest');

const postRepairReport = createRoute({
  method: 'post',
  path: '/bugs/{id}/repair-reports',
  tags: ['Agent'],
  summary: "The repair agent's report on one attempt",
  request: {
    params: BugIdParam,
    body: { content: { 'application/json': { schema: RepairReportBody } }, required: true },
  },
  responses: { 201: json(RepairReportSchema, 'Stored report'), 404: errorResponse('Unknown bug') },
});

const PendingQuery = z.object({
  project_id: z.string().optional(),
  source: z.enum(SOURCES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const pending = createRoute({
  method: 'get',
  path: '/tasks/pending',
  tags: ['Agent'],
  summary: 'NEW bugs waiting for the repair agent',
  request: { query: PendingQuery },
  responses: { 200: json(z.object({ items: z.array(BugSchema) }), 'Claimable bugs') },
});

const ClaimBody = z
  .object({
    agent_id: z.string().min(1).max(200),
    project_id: z.string().optional(),
    source: z.enum(SOURCES).optional(),
    limit: z.number().int().min(1).max(10).default(1),
    lease_seconds: z.number().int().min(30).max(86_400).optional(),
  })
  .openapi('ClaimRequest');

const claim = createRoute({
  method: 'post',
  path: '/tasks/claim',
  tags: ['Agent'],
  summary: 'Atomically move NEW bugs to FIXING under a lease; two agents never get the same bug',
  request: { body: { content: { 'application/json': { schema: ClaimBody } }, required: true } },
  responses: { 200: json(z.object({ items: z.array(BugSchema) }), 'Claimed bugs (empty when none)') },
});

const adminSweep = createRoute({
  method: 'post',
  path: '/admin/sweep',
  tags: ['Admin'],
  summary: 'Run the cron sweep now: expired leases, retention, pending alerts',
  responses: {
    200: json(
      z.object({
        leases_expired: z.number().int(),
        reopened: z.number().int(),
        failed: z.number().int(),
        occurrences_purged: z.number().int(),
        reminders_queued: z.number().int(),
        recurring_queued: z.number().int(),
        alerts_sent: z.number().int(),
        alerts_held: z.number().int(),
        alerts_retrying: z.number().int(),
        alerts_dead: z.number().int(),
        alerts_suppressed: z.number().int(),
        alerts_purged: z.number().int(),
        notifications_purged: z.number().int(),
      }),
      'What the sweep changed',
    ),
  },
});

export const lifecycleRoutes = new OpenAPIHono<AppEnv>()
  .openapi(putStatus, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const status = parseStatus(body.status);
    if (!status) {
      throw validationFailed([{ path: 'status', message: `unknown status ${body.status}` }]);
    }
    const { deps } = c.var;
    const row = await moveBug(deps.db, id, status, { actor: body.actor ?? 'user', note: body.note });
    // FAILED, PENDING_REVIEW and MERGED queue an alert in the same batch; send it after the answer.
    if (queuesAlert(status)) deps.alertsQueued();
    // Reviewers and the auto-approval policy talk to Gitea: never inside the agent's request.
    if (status === 'PENDING_REVIEW') deps.defer(afterPendingReview(deps.db, deps.config, id));
    return c.json(toApiBug(row), 200);
  })
  .openapi(putPrInfo, async (c) => {
    const { id } = c.req.valid('param');
    const fromQuery = c.req.valid('query');
    let info = fromQuery;
    const text = await c.req.text();
    if (text.trim()) {
      info = { ...fromQuery, ...parseJsonBody(text, PrInfoBody) };
    }
    const { deps } = c.var;
    const before = await getBugRow(deps.db, id);
    const row = await setPrInfo(deps.db, id, info);
    // A bug already in review that gets another PR asks that PR's reviewers too.
    if (row.status === 'PENDING_REVIEW' && row.prNumber != null && row.prNumber !== before?.prNumber) {
      deps.defer(afterPendingReview(deps.db, deps.config, id, { autoApprove: false }));
    }
    return c.json(toApiBug(row), 200);
  })
  .openapi(postRepairReport, async (c) => {
    const row = await addRepairReport(c.var.deps.db, c.req.valid('param').id, c.req.valid('json'));
    return c.json(toApiRepairReport(row), 201);
  })
  .openapi(pending, async (c) => {
    const q = c.req.valid('query');
    const page = await listBugs(c.var.deps.db, {
      project_id: q.project_id,
      source: q.source,
      status: ['NEW'],
      page: 1,
      page_size: q.limit,
      sort: 'occurrence_count',
      order: 'desc',
    });
    return c.json({ items: page.items }, 200);
  })
  .openapi(claim, async (c) => {
    const body = c.req.valid('json');
    const rows = await claimBugs(c.var.deps.db, {
      ...body,
      lease_seconds: body.lease_seconds ?? c.var.deps.config.DEFAULT_LEASE_SECONDS,
    });
    return c.json({ items: rows.map(toApiBug) }, 200);
  })
  .openapi(adminSweep, async (c) => {
    const { deps } = c.var;
    return c.json(
      await sweep(deps.db, { retentionDays: deps.config.RETENTION_DAYS, alerts: deps.config }),
      200,
    );
  });
