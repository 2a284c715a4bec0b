import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { normaliseLevel, SOURCES } from '../../lib/vocabulary';
import { BUG_SORTS } from '../../services/bugs';
import { readsOf } from '../../services/reads';
import { BugDetailSchema, BugIdParam, BugSchema, errorResponse, json, pageOf } from '../schemas';

const statusList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean),
  )
  .optional()
  .openapi({ description: 'One status or a comma list', example: 'NEW,FIXING' });

export const BugListQuerySchema = z.object({
  project_id: z.string().optional(),
  status: statusList,
  source: z.enum(SOURCES).optional(),
  level: z
    .string()
    .transform((v, ctx) => {
      const level = normaliseLevel(v);
      if (!level) {
        ctx.addIssue({ code: 'custom', message: 'unknown level' });
        return z.NEVER;
      }
      return level;
    })
    .optional(),
  environment: z.string().optional(),
  q: z.string().max(200).optional().openapi({ description: 'Search in error type and message' }),
  page: z.coerce.number().int().min(1).default(1),
  page_size: z.coerce.number().int().min(1).max(200).default(50),
  sort: z.enum(BUG_SORTS).default('last_seen'),
  order: z.enum(['asc', 'desc']).default('desc'),
});

const list = createRoute({
  method: 'get',
  path: '/bugs',
  tags: ['Bugs'],
  summary: 'List bugs with filters and pagination',
  request: { query: BugListQuerySchema },
  responses: {
    200: json(pageOf(BugSchema, 'BugPage'), 'A page of bugs'),
    422: errorResponse('Invalid filter'),
  },
});

const detail = createRoute({
  method: 'get',
  path: '/bugs/{id}',
  tags: ['Bugs'],
  summary: 'Bug with its recent occurrences, repair reports and status history',
  request: { params: BugIdParam },
  responses: {
    200: json(BugDetailSchema, 'Bug'),
    404: errorResponse('Unknown bug'),
  },
});

export const bugRoutes = new OpenAPIHono<AppEnv>()
  .openapi(list, async (c) => {
    const { deps } = c.var;
    return c.json(await readsOf(deps).listBugs(c.req.valid('query')), 200);
  })
  .openapi(detail, async (c) => {
    const { deps } = c.var;
    const bug = await readsOf(deps).getBugDetail(c.req.valid('param').id);
    if (!bug) throw notFound('Bug');
    return c.json(bug, 200);
  });
