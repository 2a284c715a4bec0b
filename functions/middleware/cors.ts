import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Config } from '../lib/config';

// Config objects live as long as the process (Node) or the isolate's env (Workers), so the
// CORS_ORIGINS list is parsed once per config, not per request.
const corsByConfig = new WeakMap<Config, MiddlewareHandler>();

/**
 * The dashboard's API calls: origins listed in CORS_ORIGINS only. hono/cors answers the
 * preflight. An actual request gets its two headers before the handler runs: hono/cors adds
 * `Vary` once the handler has answered, and a header set on a finished answer makes Hono copy
 * it into a new Response whose body the Node adapter then reads back as a stream (under the
 * bench's list load that copy was a tenth of the main thread's work). Set first, they ride on
 * `c.json`'s direct path.
 */
export function apiCors(config: Config): MiddlewareHandler {
  let handler = corsByConfig.get(config);
  if (!handler) {
    const allowed = (config.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    const allow = (origin: string) => (allowed.includes('*') || allowed.includes(origin) ? origin : null);
    const preflight = cors({
      origin: allow,
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type'],
      maxAge: 600,
    });
    handler = (c, next) => {
      if (c.req.method === 'OPTIONS') return preflight(c, next);
      const origin = c.req.header('Origin');
      const allowedOrigin = origin ? allow(origin) : null;
      if (allowedOrigin) c.header('Access-Control-Allow-Origin', allowedOrigin);
      c.header('Vary', 'Origin', { append: true });
      return next();
    };
    corsByConfig.set(config, handler);
  }
  return handler;
}

/**
 * Reports come from any page: sendBeacon sends credentials, so the origin is echoed (a
 * wildcard is refused by browsers for credentialed requests). Answers the preflight; the
 * report handler sets the same headers on its answer itself (see routes/public/report.ts).
 */
export const reportPreflight = cors({
  origin: (origin) => origin || '*',
  credentials: true,
  allowMethods: ['POST', 'OPTIONS'],
  allowHeaders: ['Content-Type', 'X-Log-Center-Key'],
  maxAge: 86_400,
});
