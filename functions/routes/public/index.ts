import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { apiCors } from '../../middleware/cors';
import { docsRoutes } from './docs';
import { healthRoutes } from './health';
import { reportRoutes } from './report';
import { sentryRoutes } from './sentry';
import { webhookRoutes } from './webhooks';

/**
 * Routes anyone may call. Each carries its own credentials where it needs them: an ingest
 * key for reports (the DSN's public key for Sentry SDKs), a signature or shared secret for
 * webhooks. Nothing here sees the API token.
 */
const open = new OpenAPIHono<AppEnv>();
// The dashboard on another origin (Pages) may check health; webhooks are server-to-server
// but have always answered the API's CORS, so they keep it.
for (const path of ['/api/health', '/api/webhooks/*', '/api/v1/webhooks/*']) {
  open.use(path, (c, next) => apiCors(c.var.deps.config)(c, next));
}

export const publicRouter = open
  .route('/', healthRoutes)
  .route('/', reportRoutes)
  .route('/', webhookRoutes)
  .route('/', sentryRoutes)
  .route('/', docsRoutes);
