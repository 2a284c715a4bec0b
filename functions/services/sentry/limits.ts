const MiB = 1024 * 1024;

/** docs/sentry.md limits: what arrives, what it may inflate to, and one event within it. */
export const SENTRY_LIMITS = {
  /** The body as received, compressed or not. */
  bodyBytes: 1 * MiB,
  /** The body once decompressed; a stream is cut off here, never inflated further. */
  decodedBytes: 4 * MiB,
  /** One `event` item, or the body of a legacy store request. */
  eventBytes: 1 * MiB,
} as const;
