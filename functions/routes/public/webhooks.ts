import { OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../../env';
import { AppError, parseJsonBody } from '../../lib/errors';
import { safeEqual } from '../../lib/secrets';
import { queuesAlert } from '../../services/transitions';
import {
  deploymentSchema,
  GITEA_REVIEW_EVENTS,
  giteaIssueCommentSchema,
  giteaPullRequestSchema,
  giteaReviewSchema,
  handleDeployment,
  handleGiteaIssueComment,
  handleGiteaPullRequest,
  handleGiteaReview,
  verifyGiteaSignature,
} from '../../services/webhooks';
import { errorResponse, json } from '../schemas';

const MAX_WEBHOOK_BYTES = 1024 * 1024;

const limit = bodyLimit({
  maxSize: MAX_WEBHOOK_BYTES,
  onError: () => {
    throw new AppError('payload_too_large', 'Webhook body exceeds 1 MiB');
  },
});

function notConfigured(name: string): never {
  throw new AppError('not_configured', `${name} is not set; this webhook refuses every call until it is`);
}

const WebhookAnswer = z.object({
  message: z.string(),
  updated: z.array(z.object({ id: z.number().int(), status: z.string() })),
  skipped: z.array(z.object({ id: z.number().int(), status: z.string(), reason: z.string() })),
  recorded: z
    .array(z.number().int())
    .optional()
    .openapi({ description: 'Bugs a review or comment was stored for (their activity)' }),
});

export const webhookRoutes = new OpenAPIHono<AppEnv>();

for (const path of ['/api/webhooks/gitea', '/api/v1/webhooks/gitea']) {
  webhookRoutes.post(path, limit, async (c) => {
    const secret = c.var.deps.config.GITEA_WEBHOOK_SECRET;
    if (!secret) notConfigured('GITEA_WEBHOOK_SECRET');
    // The signature covers the exact bytes sent, so verify before parsing anything.
    const raw = await c.req.text();
    if (
      !verifyGiteaSignature(
        raw,
        c.req.header('X-Gitea-Signature') ?? c.req.header('X-Hub-Signature-256'),
        secret,
      )
    ) {
      throw new AppError('invalid_signature', 'X-Gitea-Signature does not match the body');
    }
    // X-Gitea-Event is HookEventType.Event(): its names never clash (X-Gitea-Event-Type's
    // "pull_request_comment" is a conversation comment, X-Gitea-Event's a review comment).
    const event = c.req.header('X-Gitea-Event') ?? c.req.header('X-GitHub-Event') ?? 'pull_request';
    const { deps } = c.var;
    const reviewState = GITEA_REVIEW_EVENTS[event];
    if (reviewState) {
      return c.json(
        await handleGiteaReview(deps.db, parseJsonBody(raw, giteaReviewSchema), reviewState),
        200,
      );
    }
    if (event === 'issue_comment') {
      return c.json(await handleGiteaIssueComment(deps.db, parseJsonBody(raw, giteaIssueCommentSchema)), 200);
    }
    if (event !== 'pull_request')
      return c.json({ message: `Event ${event} ignored`, updated: [], skipped: [] }, 200);
    const payload = parseJsonBody(raw, giteaPullRequestSchema);
    const outcome = await handleGiteaPullRequest(deps.db, payload);
    // A merged PR (MERGED) or one closed without merging (FAILED) queued alerts with the move;
    // send them after the answer.
    if (outcome.updated.some((bug) => queuesAlert(bug.status))) deps.alertsQueued();
    return c.json(outcome, 200);
  });

  webhookRoutes.openAPIRegistry.registerPath({
    method: 'post',
    path,
    tags: ['Webhooks'],
    summary:
      'Gitea pull_request, review (pull_request_approved / _rejected / _comment) and issue_comment events, ' +
      'signed with X-Gitea-Signature (HMAC-SHA256 of the body)',
    responses: {
      200: json(WebhookAnswer, 'What changed'),
      401: errorResponse('Bad signature (nothing changes)'),
      503: errorResponse('GITEA_WEBHOOK_SECRET not configured'),
    },
  });
}

for (const path of ['/api/webhooks/deployment', '/api/v1/webhooks/deployment']) {
  webhookRoutes.post(path, limit, async (c) => {
    const secret = c.var.deps.config.DEPLOY_WEBHOOK_SECRET;
    if (!secret) notConfigured('DEPLOY_WEBHOOK_SECRET');
    if (!safeEqual(c.req.header('X-Secret'), secret)) {
      throw new AppError('invalid_signature', 'X-Secret does not match DEPLOY_WEBHOOK_SECRET');
    }
    const payload = parseJsonBody(await c.req.text(), deploymentSchema);
    return c.json(await handleDeployment(c.var.deps.db, payload), 200);
  });

  webhookRoutes.openAPIRegistry.registerPath({
    method: 'post',
    path,
    tags: ['Webhooks'],
    summary: 'Deploy pipeline: {project_id, status:"success", commit, deployed_at?} with X-Secret',
    request: { body: { content: { 'application/json': { schema: deploymentSchema } }, required: true } },
    responses: {
      200: json(WebhookAnswer, 'Bugs moved to DEPLOYED'),
      401: errorResponse('Wrong X-Secret'),
      503: errorResponse('DEPLOY_WEBHOOK_SECRET not configured'),
    },
  });
}
