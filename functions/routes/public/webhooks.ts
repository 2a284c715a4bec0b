import { OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../../env';
import { AppError, parseJsonBody } from '../../lib/errors';
import { safeEqual } from '../../lib/secrets';
import {
  deploymentSchema,
  giteaPullRequestSchema,
  handleDeployment,
  handleGiteaPullRequest,
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
    const event = c.req.header('X-Gitea-Event') ?? c.req.header('X-GitHub-Event') ?? 'pull_request';
    if (event !== 'pull_request')
      return c.json({ message: `Event ${event} ignored`, updated: [], skipped: [] }, 200);
    const payload = parseJsonBody(raw, giteaPullRequestSchema);
    const { deps } = c.var;
    const outcome = await handleGiteaPullRequest(deps.db, payload);
    // A PR closed without merging fails its bugs, which queued alerts; send them after the answer.
    if (outcome.updated.some((bug) => bug.status === 'FAILED')) deps.alertsQueued();
    return c.json(outcome, 200);
  });

  webhookRoutes.openAPIRegistry.registerPath({
    method: 'post',
    path,
    tags: ['Webhooks'],
    summary: 'Gitea pull_request events, signed with X-Gitea-Signature (HMAC-SHA256 of the body)',
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
