import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison; hashing first makes lengths equal so length is not leaked either. */
export function safeEqual(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
