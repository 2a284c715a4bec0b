/**
 * Links in reports (CI run URLs, PR URLs) come from whoever can post a report, so only
 * http(s) URLs become links; `javascript:` and friends are shown as text instead.
 */
export function safeHref(value: unknown): string | null {
  if (typeof value !== 'string' || !value.trim()) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Single-quotes a value for a POSIX shell, for the copy-paste snippets. */
export const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
