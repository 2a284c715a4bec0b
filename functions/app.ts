import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requestId } from 'hono/request-id';
import type { AppEnv, Deps } from './env';
import { issuesToFieldErrors, validationFailed } from './lib/errors';
import { notFoundRoute, onError } from './middleware/errors';
import { noSniff } from './middleware/headers';
import { PRIVATE_BASE, privateRouter } from './routes/private';
import { publicRouter } from './routes/public';
import { REPORT_PATH } from './routes/public/report';

export type DepsResolver = (c: Context<AppEnv>) => Deps | Promise<Deps>;

/**
 * The portable app: no side effects, no I/O of its own. The entries (worker.ts, server.ts)
 * build the dependencies and call `app.fetch`.
 *
 * Two routers: the public one (reports, webhooks, health, the API document) and the private
 * one, which the API token guards as a whole. The public router is mounted first: its routes
 * under /api/v1 answer before the private router's guard is reached.
 */
export function createApp(resolveDeps: DepsResolver) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationFailed(issuesToFieldErrors(result.error.issues));
    },
  });

  // Every answer, the dashboard's and /docs included (docs/api.md, limits).
  app.use('*', noSniff);
  // Reports skip the request-id middleware (a measurable share of the hot path); their
  // errors still get an id from onError.
  app.use('*', (c, next) => (c.req.path === REPORT_PATH ? next() : requestId()(c, next)));
  app.use('*', async (c, next) => {
    c.set('deps', await resolveDeps(c));
    await next();
  });
  app.onError(onError);
  app.notFound(notFoundRoute);

  // The document is built from the registry when asked for, so it lists the private routes
  // mounted below too; it is public, like the page that shows it (/docs, routes/public/docs.ts).
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Log Center API',
      version: '1.0.0',
      description: 'Error ingestion, bug lifecycle and repair agent API',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  return app.route('/', publicRouter).route(PRIVATE_BASE, privateRouter);
}

export type AppType = ReturnType<typeof createApp>;
