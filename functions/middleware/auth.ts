import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';
import { AppError } from '../lib/errors';
import { safeEqual } from '../lib/secrets';

/** `Authorization: Bearer <token>`; the scheme is matched case-insensitively (RFC 7235). */
function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^bearer\s+(.+)$/i);
  return match ? match[1]!.trim() : null;
}

/**
 * Guards the whole private router: every route mounted there needs the API token, whatever
 * its path. Preflight requests carry no credentials and are let through to CORS.
 */
export const requireApiToken = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === 'OPTIONS') return next();
  const expected = c.var.deps.config.LOG_CENTER_API_TOKEN;
  if (!expected) throw new AppError('not_configured', 'LOG_CENTER_API_TOKEN is not set on this server');
  if (!safeEqual(bearerToken(c.req.header('Authorization')), expected)) {
    // The challenge names this guard's scheme; other 401s (an ingest or DSN key) have none.
    c.header('WWW-Authenticate', 'Bearer');
    throw new AppError('unauthorized', 'Send Authorization: Bearer <LOG_CENTER_API_TOKEN>');
  }
  return next();
});
