import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { ACTIVITY_PAGE, activityAfter } from '../../services/activity';
import { getBugRow } from '../../services/bugs';
import { giteaClient } from '../../services/gitea';
import { REVIEW_ACTIONS, reviewBug, reviewBugs } from '../../services/review';
import { MERGE_STYLES } from '../../services/review-policy';
import { ActivitySchema, BugIdParam, BugSchema, errorResponse, json } from '../schemas';

export const MAX_NOTE = 10_000;
export const MAX_BATCH = 50;

const Note = z
  .string()
  .max(MAX_NOTE)
  .refine((text) => !text.includes('\u0000'), 'must not contain NUL characters')
  .nullish()
  .openapi({ description: "The person's note: the review body on Gitea, kept in the bug's activity" });

/** request_changes says what to change: a note is required (checked here, so the document says so). */
const needsNote = (body: { action: string; note?: string | null }, ctx: z.RefinementCtx) => {
  if (body.action === 'request_changes' && !body.note?.trim()) {
    ctx.addIssue({ code: 'custom', path: ['note'], message: 'required for request_changes' });
  }
};

const ReviewBody = z
  .object({
    action: z.enum(REVIEW_ACTIONS),
    note: Note,
    merge_style: z
      .enum(MERGE_STYLES)
      .optional()
      .openapi({ description: "approve_and_merge only; default: the project's review_settings.merge_style" }),
  })
  .strict()
  .superRefine(needsNote)
  .openapi('ReviewRequest');

const BatchBody = z
  .object({
    ids: z
      .array(z.number().int().positive())
      .min(1)
      .max(MAX_BATCH)
      .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an id'),
    action: z.enum(REVIEW_ACTIONS),
    note: Note,
    merge_style: z.enum(MERGE_STYLES).optional(),
  })
  .strict()
  .superRefine(needsNote)
  .openapi('BatchReviewRequest');

const ReviewAnswer = z
  .object({
    message: z.string(),
    bug: BugSchema,
    activity: z.array(ActivitySchema).openapi({ description: 'The rows this call wrote' }),
  })
  .openapi('ReviewResult');

const BatchAnswer = z
  .object({
    results: z.array(
      z.union([
        z.object({ id: z.number().int(), ok: z.literal(true), bug: BugSchema, message: z.string() }),
        z.object({
          id: z.number().int(),
          ok: z.literal(false),
          error: z.object({ code: z.string(), message: z.string() }),
        }),
      ]),
    ),
  })
  .openapi('BatchReviewResult');

const review = createRoute({
  method: 'post',
  path: '/bugs/{id}/review',
  tags: ['Review'],
  summary: "Approve, approve and merge, ask for changes on, or close the bug's pull request on Gitea",
  description:
    "The bug's status is not changed here: Gitea's webhook moves it (merged → MERGED, closed → FAILED, " +
    'changes requested → FIXING). When Gitea refuses, nothing is stored and the answer carries its reason.',
  request: {
    params: BugIdParam,
    body: { content: { 'application/json': { schema: ReviewBody } }, required: true },
  },
  responses: {
    200: json(ReviewAnswer, 'Done on Gitea; the activity rows written'),
    404: errorResponse('Unknown bug'),
    409: errorResponse(
      'The bug is not in PENDING_REVIEW, has no PR, or its project names no Gitea repository (`conflict`)',
    ),
    422: errorResponse('Invalid body (request_changes needs a note)'),
    502: errorResponse('Gitea refused or could not be reached (`gitea_failed`, with its status and message)'),
    503: errorResponse('GITEA_URL / GITEA_TOKEN not set (`not_configured`)'),
  },
});

const batchReview = createRoute({
  method: 'post',
  path: '/bugs/review',
  tags: ['Review'],
  summary: 'The same review action on several bugs; one refusal does not stop the others',
  request: { body: { content: { 'application/json': { schema: BatchBody } }, required: true } },
  responses: {
    200: json(BatchAnswer, 'One result per id, in the order given'),
    422: errorResponse('Invalid body'),
    503: errorResponse('GITEA_URL / GITEA_TOKEN not set (`not_configured`)'),
  },
});

const ActivityQuery = z.object({
  after_id: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .openapi({ description: 'Only rows with a larger id (the last id the caller saw)' }),
});

const activity = createRoute({
  method: 'get',
  path: '/bugs/{id}/activity',
  tags: ['Review'],
  summary: `A bug's activity after an id, oldest first, up to ${ACTIVITY_PAGE} rows`,
  request: { params: BugIdParam, query: ActivityQuery },
  responses: {
    200: json(z.object({ items: z.array(ActivitySchema) }).openapi('ActivityPage'), 'Activity rows'),
    404: errorResponse('Unknown bug'),
  },
});

export const reviewRoutes = new OpenAPIHono<AppEnv>()
  // Registered before /bugs/{id}/… so "review" is never read as an id.
  .openapi(batchReview, async (c) => {
    const { deps } = c.var;
    const body = c.req.valid('json');
    const gitea = giteaClient(deps.config);
    return c.json({ results: await reviewBugs(deps.db, gitea, body.ids, body) }, 200);
  })
  .openapi(review, async (c) => {
    const { deps } = c.var;
    const gitea = giteaClient(deps.config);
    return c.json(await reviewBug(deps.db, gitea, c.req.valid('param').id, c.req.valid('json')), 200);
  })
  .openapi(activity, async (c) => {
    const { db } = c.var.deps;
    const { id } = c.req.valid('param');
    if (!(await getBugRow(db, id))) throw notFound('Bug');
    return c.json({ items: await activityAfter(db, id, c.req.valid('query').after_id) }, 200);
  });
