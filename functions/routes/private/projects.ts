import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ALERT_TARGETS } from '../../../schema';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { checkAlertSettings, sendTestAlert } from '../../services/alerts';
import { getProject, getProjectRow, listProjects, upsertProject } from '../../services/projects';
import { INGEST_KEY_PATTERN } from '../../services/sentry/auth';
import {
  AlertSettingsSchema,
  errorResponse,
  json,
  ProjectIdParam,
  ProjectPageQuery,
  ProjectPageSchema,
  ProjectSchema,
  ReviewSettingsUpdateSchema,
} from '../schemas';

const list = createRoute({
  method: 'get',
  path: '/projects',
  tags: ['Projects'],
  summary: 'List projects with bug counts, a page at a time (by id)',
  request: { query: ProjectPageQuery },
  responses: {
    200: json(ProjectPageSchema, 'A page of projects'),
    401: errorResponse('Missing or wrong bearer token'),
    422: errorResponse('Invalid page'),
  },
});

const get = createRoute({
  method: 'get',
  path: '/projects/{id}',
  tags: ['Projects'],
  summary: 'Project detail',
  request: { params: ProjectIdParam },
  responses: {
    200: json(ProjectSchema, 'Project'),
    404: errorResponse('Unknown project'),
  },
});

const optionalText = (max: number) => z.string().trim().max(max).nullable().optional();

export const ProjectUpdateSchema = z
  .object({
    name: optionalText(200),
    repo_url: optionalText(2048),
    local_path: optionalText(4096),
    description: optionalText(4000),
    ingest_key: z
      .string()
      .regex(INGEST_KEY_PATTERN, 'must be 8-200 letters, digits or underscores (it goes into the Sentry DSN)')
      .nullable()
      .optional(),
    rate_limit_per_minute: z.number().int().min(0).max(10_000_000).nullable().optional(),
    test_command: optionalText(1000),
    alert_settings: AlertSettingsSchema.nullable().optional(),
    review_settings: ReviewSettingsUpdateSchema.nullable().optional().openapi({
      description: 'Merged into the stored settings: only the keys given change; null restores the defaults',
    }),
  })
  .strict()
  .openapi('ProjectUpdate');

const put = createRoute({
  method: 'put',
  path: '/projects/{id}',
  tags: ['Projects'],
  summary: 'Edit a project (created when it does not exist yet)',
  request: {
    params: ProjectIdParam,
    body: { content: { 'application/json': { schema: ProjectUpdateSchema } }, required: true },
  },
  responses: {
    200: json(ProjectSchema, 'Updated project'),
    422: errorResponse('Invalid fields, or a new project past MAX_PROJECTS (`project_limit`)'),
  },
});

const testAlert = createRoute({
  method: 'post',
  path: '/projects/{id}/alerts/test',
  tags: ['Projects'],
  summary: "Send a test message to each of the project's alert targets now",
  request: { params: ProjectIdParam },
  responses: {
    200: json(
      z.object({
        results: z.array(
          z.object({
            target: z.enum(ALERT_TARGETS),
            ok: z.boolean(),
            error: z.string().optional(),
            skipped: z.boolean().optional(),
            reason: z.string().optional(),
          }),
        ),
      }),
      'One result per configured target; empty when the project has none',
    ),
    404: errorResponse('Unknown project'),
  },
});

/** Where SDKs reach this server: PUBLIC_URL, else the origin this request came to. */
const baseUrl = (c: Context<AppEnv>) => c.var.deps.config.PUBLIC_URL ?? new URL(c.req.url).origin;

export const projectRoutes = new OpenAPIHono<AppEnv>()
  .openapi(list, async (c) => {
    return c.json(await listProjects(c.var.deps.db, baseUrl(c), c.req.valid('query')), 200);
  })
  .openapi(get, async (c) => {
    const project = await getProject(c.var.deps.db, c.req.valid('param').id, baseUrl(c));
    if (!project) throw notFound('Project');
    return c.json(project, 200);
  })
  .openapi(put, async (c) => {
    const { id } = c.req.valid('param');
    const { deps } = c.var;
    const body = c.req.valid('json');
    checkAlertSettings(deps.config, body.alert_settings);
    const project = await upsertProject(deps.db, id, body, baseUrl(c), deps.config.MAX_PROJECTS);
    deps.projectSettings.invalidate(id);
    deps.knownProjects.forget(id);
    return c.json(project!, 200);
  })
  .openapi(testAlert, async (c) => {
    const { deps } = c.var;
    const project = await getProjectRow(deps.db, c.req.valid('param').id);
    if (!project) throw notFound('Project');
    return c.json({ results: await sendTestAlert(deps.config, project) }, 200);
  });
