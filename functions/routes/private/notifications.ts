import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ALERT_KINDS } from '../../../schema';
import type { AppEnv } from '../../env';
import { listNotifications, markRead } from '../../services/notifications';
import { errorResponse, json } from '../schemas';

export const NotificationSchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(ALERT_KINDS),
    bug_id: z.number().int(),
    project_id: z.string(),
    title: z.string(),
    body: z.string(),
    created_at: z.string(),
    read_at: z.string().nullable(),
  })
  .openapi('Notification');

export const NotificationPageSchema = z
  .object({
    items: z.array(NotificationSchema),
    unread_count: z.number().int(),
    pagination: z.object({ page: z.number().int(), per_page: z.number().int(), total: z.number().int() }),
  })
  .openapi('NotificationPage');

export const NotificationQuery = z.object({
  unread: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .openapi({ description: 'true: only the ones not marked read' }),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(20),
});

/** At most this many ids a call: a page of the list is 100 at most. */
export const MAX_READ_IDS = 500;

export const MarkReadSchema = z
  .union([
    z
      .object({
        ids: z
          .array(z.number().int().positive())
          .min(1)
          .max(MAX_READ_IDS)
          .refine((ids) => new Set(ids).size === ids.length, 'ids must be unique'),
      })
      .strict(),
    z.object({ all: z.literal(true) }).strict(),
  ])
  .openapi('MarkNotificationsRead', { description: '`{ ids: [...] }` or `{ all: true }`' });

export const MarkReadResultSchema = z
  .object({ updated: z.number().int(), unread_count: z.number().int() })
  .openapi('MarkNotificationsReadResult');

const list = createRoute({
  method: 'get',
  path: '/notifications',
  tags: ['Notifications'],
  summary: 'The message centre: alerts queued for any project, newest first, with the unread count',
  request: { query: NotificationQuery },
  responses: {
    200: json(NotificationPageSchema, 'A page of notifications'),
    401: errorResponse('Missing or wrong bearer token'),
    422: errorResponse('Invalid query'),
  },
});

const read = createRoute({
  method: 'post',
  path: '/notifications/read',
  tags: ['Notifications'],
  summary: 'Mark notifications read, by id or all of them',
  request: { body: { content: { 'application/json': { schema: MarkReadSchema } }, required: true } },
  responses: {
    200: json(MarkReadResultSchema, 'How many were unread and are read now; the unread count after'),
    400: errorResponse('Body is not JSON'),
    401: errorResponse('Missing or wrong bearer token'),
    422: errorResponse('Invalid body, or an id that names no notification (nothing is marked)'),
  },
});

export const notificationRoutes = new OpenAPIHono<AppEnv>()
  .openapi(list, async (c) => c.json(await listNotifications(c.var.deps.db, c.req.valid('query')), 200))
  .openapi(read, async (c) => c.json(await markRead(c.var.deps.db, c.req.valid('json')), 200));
