import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Config } from '../lib/config';

// Config objects live as long as the process (Node) or the isolate's env (Workers), so the
// CORS_ORIGINS list is parsed once per config, not per request.
const corsByConfig = new WeakMap<Config, MiddlewareHandler>();

/** The dashboard's API calls: origins listed in CORS_ORIGINS only. */
export function apiCors(config: Config): MiddlewareHandler {
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
