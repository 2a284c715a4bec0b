import type { Fetcher } from '@cloudflare/workers-types';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';

/**
 * The API reference page: Swagger UI from the `swagger-ui-dist` package, served by Log Center
 * itself so that no request leaves for another host. Nothing on the page is inline: the
 * start-up code is /docs/init.js, so the page runs under a policy of `script-src 'self';
 * style-src 'self'` (test/docs-ui.test.ts loads it under the dashboard's policy).
 *
 * Where the two files come from differs by runtime:
 * - the Worker reads them from its static assets (wrangler.toml `[assets]`, the package folder
 *   itself, bound as ASSETS), so the ~1.9 MB of Swagger UI stays out of the Worker bundle;
 * - the Node server reads them from node_modules (its bundle keeps packages external).
 */
const ASSET_TYPES = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSET_TYPES;

const isAssetName = (name: string): name is AssetName => Object.hasOwn(ASSET_TYPES, name);

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log Center API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null keeps Swagger UI from asking validator.swagger.io about the document.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  validatorUrl: null,
  deepLinking: true,
});
`;

/** Worker bindings this module reads; ASSETS is declared in wrangler.toml, not in env.ts. */
type DocsBindings = { ASSETS?: Fetcher };

/** The file's text from swagger-ui-dist on the Node server; undefined when it cannot be read. */
async function readPackageFile(name: AssetName): Promise<string | undefined> {
  // Imported here, not at the top: only the Node server comes this way (the Worker answers
  // from ASSETS), so the Worker bundle keeps no use of them.
  const [{ readFile }, { createRequire }, { dirname, join }] = await Promise.all([
    import('node:fs/promises'),
    import('node:module'),
    import('node:path'),
  ]);
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    return await readFile(join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
}

export const docsRoutes = new OpenAPIHono<AppEnv>()
  .get('/docs', (c) => c.html(PAGE))
  .get('/docs/init.js', (c) => c.body(INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }))
  .get('/docs/assets/:name', async (c) => {
    const name = c.req.param('name');
    if (!isAssetName(name)) return c.notFound();
    const assets = (c.env as DocsBindings | undefined)?.ASSETS;
    if (assets) {
      const res = await assets.fetch(new URL(`/${name}`, c.req.url).href);
      return new Response(res.body as ReadableStream | null, res as unknown as ResponseInit);
    }
    const text = await readPackageFile(name);
    if (text === undefined) return c.notFound();
    return c.body(text, 200, { 'Content-Type': ASSET_TYPES[name], 'Cache-Control': 'public, max-age=3600' });
  });
