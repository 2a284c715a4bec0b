import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../../env';
import { AppError } from '../../lib/errors';
import { errorResponse, json } from '../schemas';

const health = createRoute({
  method: 'get',
  path: '/api/health',
  tags: ['Health'],
  summary: 'Liveness and database reachability (open)',
  responses: {
    200: json(z.object({ status: z.literal('ok'), database: z.literal('ok'), time: z.string() }), 'Healthy'),
    503: errorResponse('Database unreachable'),
  },
});

export const healthRoutes = new OpenAPIHono<AppEnv>().openapi(health, async (c) => {
  try {
    await c.var.deps.db.get(sql`SELECT 1`);
  } catch {
    throw new AppError('database_unreachable', 'The database did not answer');
  }
  return c.json({ status: 'ok' as const, database: 'ok' as const, time: new Date().toISOString() }, 200);
});
