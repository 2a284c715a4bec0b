import { swaggerUI } from '@hono/swagger-ui';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Config } from './lib/config';
import type { AppEnv, Deps } from './lib/env';
import { ApiError, issuesToFieldErrors, validationFailed } from './lib/errors';
import { safeEqual } from './lib/secrets';
import { bugRoutes } from './routes/bugs';
import { healthRoutes } from './routes/health';
import { lifecycleRoutes } from './routes/lifecycle';
import { projectRoutes } from './routes/projects';
import { REPORT_PATH, reportRoutes } from './routes/report';
import { statsRoutes } from './routes/stats';
import { webhookRoutes } from './routes/webhooks';

export type DepsResolver = (c: Context<AppEnv>) => Deps | Promise<Deps>;

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** Routes under /api/v1 that do not take the bearer token: they carry their own credentials. */
const isOpenApiV1Route = (path: string) => path === REPORT_PATH || path.startsWith('/api/v1/webhooks/');

// Config objects live as long as the process (Node) or the isolate's env (Workers), so the
// CORS_ORIGINS list is parsed once per config, not per request.
const corsByConfig = new WeakMap<Config, MiddlewareHandler>();
function apiCors(config: Config): MiddlewareHandler {
  let handler = corsByConfig.get(config);
  if (!handler) {
    const allowed = (config.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    handler = cors({
      origin: (origin) => (allowed.includes('*') || allowed.includes(origin) ? origin : null),
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type'],
      maxAge: 600,
    });
    corsByConfig.set(config, handler);
  }
  return handler;
}

export function createApp(resolveDeps: DepsResolver) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationFailed(issuesToFieldErrors(result.error.issues));
    },
  });

  // Reports skip the request-id middleware (a measurable share of the hot path); their
  // errors still get an id from onError.
  app.use('*', (c, next) => (c.req.path === REPORT_PATH ? next() : requestId()(c, next)));
  app.use('*', async (c, next) => {
    c.set('deps', await resolveDeps(c));
    await next();
  });

  // Reports come from any page: sendBeacon sends credentials, so the origin is echoed
  // (a wildcard is refused by browsers for credentialed requests).
  app.on(
    'OPTIONS',
    REPORT_PATH,
    cors({
      origin: (origin) => origin || '*',
      credentials: true,
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'X-Log-Center-Key'],
      maxAge: 86_400,
    }),
  );
  app.use('/api/*', async (c, next) => {
    if (c.req.path === REPORT_PATH) return next();
    return apiCors(c.var.deps.config)(c, next);
  });

  app.use('/api/v1/*', async (c, next) => {
    if (isOpenApiV1Route(c.req.path) || c.req.method === 'OPTIONS') return next();
    const expected = c.var.deps.config.LOG_CENTER_API_TOKEN;
    if (!expected) {
      throw new ApiError(503, 'not_configured', 'LOG_CENTER_API_TOKEN is not set on this server');
    }
    const header = c.req.header('Authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : null;
    if (!safeEqual(token, expected)) {
      throw new ApiError(
        401,
        'unauthorized',
        'Send Authorization: Bearer <LOG_CENTER_API_TOKEN>',
        {},
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    }
    return next();
  });

  app.onError((error, c) => {
    const request_id = c.get('requestId') ?? crypto.randomUUID();
    c.header('X-Request-Id', request_id);
    if (error instanceof ApiError) {
      return c.json(
        { error: { code: error.code, message: error.message, request_id, ...error.extra } },
        error.status,
        error.headers,
      );
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      return c.json(
        { error: { code: STATUS_CODES[status] ?? 'http_error', message: error.message, request_id } },
        status,
      );
    }
    // A 500 never echoes internals; the log line carries them, keyed by request id.
    console.error(JSON.stringify({ level: 'error', request_id, path: c.req.path, error: String(error) }));
    return c.json({ error: { code: 'internal_error', message: 'Internal server error', request_id } }, 500);
  });

  app.notFound((c) =>
    c.json(
      {
        error: {
          code: 'not_found',
          message: `No route for ${c.req.method} ${c.req.path}`,
          request_id: c.get('requestId'),
        },
      },
      404,
    ),
  );

  const routes = app
    .route('/', healthRoutes)
    .route('/', reportRoutes)
    .route('/', projectRoutes)
    .route('/', bugRoutes)
    .route('/', lifecycleRoutes)
    .route('/', statsRoutes)
    .route('/', webhookRoutes);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Log Center API',
      version: '1.0.0',
      description: 'Error ingestion, bug lifecycle and repair agent API',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'Log Center API' }));

  return routes;
}

export type AppType = ReturnType<typeof createApp>;
