import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { SOURCES } from '../../lib/vocabulary';
import { readsOf } from '../../services/reads';
import { json } from '../schemas';

const counts = z.record(z.string(), z.number().int());

export const StatsSchema = z
  .object({
    days: z.number().int(),
    since: z.string(),
    totals: z.object({ total: z.number().int(), by_status: counts }),
    today: z.object({ new: z.number().int(), by_status: counts }),
    source_distribution: counts,
    projects: z.array(z.object({ project_id: z.string(), total: z.number().int(), by_status: counts })),
    trend: z.array(
      z.object({
        date: z.string(),
        new: z.number().int(),
        fixed: z.number().int(),
        failed: z.number().int(),
      }),
    ),
    window: z.object({ new: z.number().int(), fixed: z.number().int(), failed: z.number().int() }),
    fix_success_rate: z.number().nullable(),
    mean_time_to_fix_seconds: z.number().nullable(),
  })
  .openapi('DashboardStats');

const stats = createRoute({
  method: 'get',
  path: '/dashboard/stats',
  tags: ['Stats'],
  summary: 'Counts by status and source, per-project table, daily trend, fix rate and time to fix',
  request: {
    query: z.object({
      project_id: z.string().optional(),
      source: z.enum(SOURCES).optional(),
      days: z.coerce.number().int().min(1).max(365).default(7),
    }),
  },
  responses: { 200: json(StatsSchema, 'Dashboard statistics') },
});

export const statsRoutes = new OpenAPIHono<AppEnv>().openapi(stats, async (c) => {
  const { deps } = c.var;
  return c.json(await readsOf(deps).dashboardStats(c.req.valid('query')), 200);
});
