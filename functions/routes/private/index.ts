import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { requireApiToken } from '../../middleware/auth';
import { apiCors } from '../../middleware/cors';
import { bugRoutes } from './bugs';
import { lifecycleRoutes } from './lifecycle';
import { notificationRoutes } from './notifications';
import { projectRoutes } from './projects';
import { reviewRoutes } from './review';
import { statsRoutes } from './stats';

/** Where the private router is mounted; its routes' own paths are relative to it. */
export const PRIVATE_BASE = '/api/v1';

/**
 * Routes for people and the agent: the bearer token guards the whole router, so mounting a
 * route here is all it takes to protect it. app.ts mounts this router at PRIVATE_BASE after
 * the public one, whose routes under the same prefix (reports, webhooks) answer first.
 */
const guarded = new OpenAPIHono<AppEnv>();
guarded.use('*', (c, next) => apiCors(c.var.deps.config)(c, next));
guarded.use('*', requireApiToken);

export const privateRouter = guarded
  .route('/', projectRoutes)
  .route('/', bugRoutes)
  .route('/', lifecycleRoutes)
  .route('/', reviewRoutes)
  .route('/', statsRoutes)
  .route('/', notificationRoutes);

// The OpenAPI document says so for each operation, so a client (and the route walk in
// test/api/auth-by-router.test.ts) knows which calls need the token.
for (const definition of privateRouter.openAPIRegistry.definitions) {
  if (definition.type === 'route') definition.route.security = [{ bearer: [] }];
}
