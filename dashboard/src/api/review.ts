/**
 * Shapes of the review cockpit and message centre answers (docs/api.md): the activity of a
 * bug, a project's review settings, review results and notifications. Written out here so the
 * dashboard reads exactly the documented fields and nothing else.
 */

import type { MergeStyle, ReviewSettings } from '../../../functions/services/review-policy';

export type { AutoApprove, MergeStyle, ReviewSettings } from '../../../functions/services/review-policy';

export const MERGE_STYLES: readonly MergeStyle[] = ['merge', 'squash', 'rebase'];

export const REVIEW_ACTIONS = ['approve', 'approve_and_merge', 'request_changes', 'close'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

/** What the server allows in a review note. */
export const NOTE_MAX = 10_000;
/** What the batch route accepts in one call. */
export const BATCH_MAX = 50;

export const DEFAULT_REVIEW_SETTINGS: ReviewSettings = {
  reviewers: [],
  merge_style: 'merge',
  auto_approve: { enabled: false, max_changed_lines: 20, allowed_paths: [], merge: false },
};

export interface ReviewRequest {
  action: ReviewAction;
  note?: string;
  merge_style?: MergeStyle;
}

export interface BatchResult {
  id: number;
  ok: boolean;
  error?: { code: string; message: string };
}

export interface Notification {
  id: number;
  kind: string;
  bug_id: number | null;
  project_id: string | null;
  title: string;
  body: string | null;
  created_at: string;
  read_at: string | null;
}

export interface NotificationPage {
  items: Notification[];
  unread_count: number;
  pagination: { page: number; per_page: number; total: number };
}

/** The notification channels a project can set beside Slack and the generic webhook. */
export interface TeamAlertSettings {
  email_recipients?: string[];
  dingtalk_webhook_url?: string | null;
  dingtalk_secret?: string | null;
  wecom_webhook_url?: string | null;
  events?: Record<string, boolean | undefined>;
}
