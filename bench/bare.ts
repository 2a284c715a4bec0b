import { serve } from '@hono/node-server';
import { Hono } from 'hono';

// The baseline: a Hono endpoint on Node that parses the same JSON body and answers,
// storing nothing. Ingestion is measured against this.
const app = new Hono();
app.post('/api/v1/logs/report', async (c) => {
  const body = JSON.parse(await c.req.text()) as { project_id?: string };
  return c.json({ message: 'Log reported', id: body.project_id ? 1 : 0 }, 200);
});

const server = serve(
  { fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) },
  (info) => {
    console.log(`bare listening on http://127.0.0.1:${info.port}`);
  },
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
