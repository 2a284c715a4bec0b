import type { MiddlewareHandler } from 'hono';

/**
 * Response headers for pages (docs/api.md, limits). Kept free of runtime imports: the dashboard's Vite
 * config reads the same policy to write the Cloudflare Pages `_headers` file, so the Node
 * server and Pages send one policy.
 */

/** Every answer, API and dashboard alike: a browser must not guess a type we did not send. */
export const NOSNIFF = { name: 'X-Content-Type-Options', value: 'nosniff' } as const;

/**
 * The dashboard's policy. Scripts and styles come from its own origin only (the build has no
 * inline script or <style>; uPlot and Preact set styles through the CSSOM, which a policy does
 * not govern). API calls go to its own origin, or to the API's origin when the dashboard is
 * hosted apart from it (Pages with VITE_API_BASE_URL). No one may frame it.
 */
export function dashboardCsp(apiBase = ''): string {
  const api = apiBase ? new URL(apiBase).origin : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self'${api ? ` ${api}` : ''}`,
    // The favicon is an empty data: URL.
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers the dashboard's page and assets are sent with. */
export function dashboardHeaders(apiBase = ''): Record<string, string> {
  return {
    'Content-Security-Policy': dashboardCsp(apiBase),
    // For browsers that predate frame-ancestors.
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    [NOSNIFF.name]: NOSNIFF.value,
  };
}

/** The same headers as a Cloudflare Pages `_headers` file, for every path of the site. */
export function pagesHeadersFile(apiBase = ''): string {
  const lines = Object.entries(dashboardHeaders(apiBase)).map(([name, value]) => `  ${name}: ${value}`);
  return `/*\n${lines.join('\n')}\n`;
}

/**
 * `X-Content-Type-Options: nosniff` on every answer. Set before the handler runs, so answers
 * built with `c.json`/`c.body` (the hot path) carry it without a copy; an answer built as a raw
 * `Response` gets it afterwards.
 */
export const noSniff: MiddlewareHandler = async (c, next) => {
  c.header(NOSNIFF.name, NOSNIFF.value);
  await next();
  if (!c.res.headers.has(NOSNIFF.name)) c.header(NOSNIFF.name, NOSNIFF.value);
};

/**
 * Wraps a handler that serves the dashboard (static files, the SPA fallback) so that what it
 * answers carries the dashboard's headers, while a request it passes on (the API, /docs) does
 * not: the Swagger UI page loads its scripts from a CDN, which this policy would block.
 */
export function servingDashboard(handler: MiddlewareHandler, apiBase = ''): MiddlewareHandler {
  const headers = Object.entries(dashboardHeaders(apiBase));
  return async (c, next) => {
    let passedOn = false;
    const res = await handler(c, () => {
      passedOn = true;
      return next();
    });
    if (!passedOn && res) for (const [name, value] of headers) res.headers.set(name, value);
    return res;
  };
}
