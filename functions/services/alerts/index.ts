/**
 * Alerts, split by concern:
 * - policy.ts: where a project's alerts go and which are worth sending (pure);
 * - render/: the Slack, webhook, email, DingTalk and WeCom bodies (pure; the webhook's is
 *   documented in docs/alert-webhook.md);
 * - outbox.ts: the delivery state machine (claim, throttle, digest, post, retry, settle);
 * - producers.ts: what the sweep queues, and the purge of settled rows;
 * - test-alert.ts: the test message a person sends from the project settings.
 * This barrel keeps `services/alerts` imports working; new code may import the module it needs.
 */
export {
  ALERT_MAX_ATTEMPTS,
  DIGEST_WINDOW_MS,
  type FlushOptions,
  type FlushResult,
  flushAlerts,
  outboxRowOf,
  retryDelayMs,
  sendTo,
} from './outbox';
export {
  type AlertConfig,
  alertTargets,
  checkAlertSettings,
  DEFAULT_EVENTS,
  hasAlertTarget,
  isOccurrence,
  RECURRING_STATUSES,
  targetsFor,
} from './policy';
export {
  purgeReadNotifications,
  purgeSettledAlerts,
  queueRecurring,
  queueReviewReminders,
} from './producers';
export type {
  WebhookBug,
  WebhookDigest,
  WebhookMessage,
  WebhookPayload,
  WebhookTest,
} from './render/webhook';
export { sendTestAlert, type TestAlertResult } from './test-alert';
