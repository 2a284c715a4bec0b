import { truncateMiddle } from './exec';
import type { ReviewFeedback, ReviewRequest } from './fixer';
import { ACTIVITY_PAGE, type Activity, type Bug, type BugDetail, type LogCenterClient } from './log-center';

/** Activity pages read at most, so a runaway comment thread cannot keep the agent paging forever. */
const MAX_ACTIVITY_PAGES = 20;

/** States after which the pull request is settled (closed, merged) or the bug was given up. */
const SETTLED = new Set(['FAILED', 'MERGED', 'DEPLOYED', 'IGNORED', 'PENDING_REVIEW']);

/**
 * A claimed bug is a review follow-up when it has a pull request, its last move out of
 * PENDING_REVIEW was to FIXING (a reviewer asked for changes), and nothing settled it since. That
 * still holds when a follow-up's lease expired and the bug went through NEW. A bug whose PR was
 * closed or merged, or whose follow-up failed, and which was then reopened, is repaired afresh.
 */
export function isReviewFollowUp(bug: Bug, detail: Pick<BugDetail, 'history'>): boolean {
  if (!bug.pr_number || !bug.branch_name) return false;
  const { history } = detail;
  let last = -1;
  history.forEach((row, i) => {
    if (row.from_status === 'PENDING_REVIEW' && row.to_status !== 'PENDING_REVIEW') last = i;
  });
  if (last < 0 || history[last]!.to_status !== 'FIXING') return false;
  return !history.slice(last + 1).some((row) => SETTLED.has(row.to_status));
}

/**
 * What the reviewers said since the agent's latest repair report (the one that opened or last
 * updated the pull request): Gitea reviews and comments, and change requests made in Log Center,
 * oldest first, each text once.
 */
export async function reviewRequest(
  api: LogCenterClient,
  bug: Bug & { pr_number: number; branch_name: string },
  detail: Pick<BugDetail, 'repair_reports'>,
): Promise<ReviewRequest> {
  const latestReport = detail.repair_reports.reduce<string | undefined>(
    (latest, report) => (latest === undefined || report.created_at > latest ? report.created_at : latest),
    undefined,
  );
  const since = latestReport ? Date.parse(latestReport) : Number.NEGATIVE_INFINITY;
  const rows: Activity[] = [];
  let afterId = 0;
  for (let page = 0; page < MAX_ACTIVITY_PAGES; page++) {
    const items = await api.activity(bug.id, afterId);
    rows.push(...items);
    if (items.length < ACTIVITY_PAGE) break;
    afterId = items.at(-1)!.id;
  }
  return {
    prNumber: bug.pr_number,
    prUrl: bug.pr_url ?? undefined,
    branch: bug.branch_name,
    feedback: feedbackFrom(rows.filter((row) => Date.parse(row.at) >= since)),
  };
}

/** The rows that carry a reviewer's words, as feedback; the same text said twice is kept once. */
export function feedbackFrom(rows: readonly Activity[]): ReviewFeedback[] {
  const seen = new Set<string>();
  const feedback: ReviewFeedback[] = [];
  for (const row of rows) {
    const body = row.body?.trim();
    if (!body) continue;
    const data = row.data ?? {};
    let item: ReviewFeedback;
    if (row.kind === 'gitea_review') {
      item = { ...base(row, body), kind: 'review', state: text(data.state) };
    } else if (row.kind === 'gitea_comment') {
      item = { ...base(row, body), kind: 'comment', path: text(data.path), line: lineOf(data.line) };
    } else if (row.kind === 'review_changes_requested') {
      item = { ...base(row, body), kind: 'request', author: 'Log Center' };
    } else {
      continue;
    }
    // A change request made in Log Center reaches Gitea as a review and comes back by webhook.
    const key = `${item.path ?? ''}\0${item.line ?? ''}\0${body}`;
    if (seen.has(key)) continue;
    seen.add(key);
    feedback.push(item);
  }
  return feedback;
}

function base(row: Activity, body: string): ReviewFeedback {
  const actor = row.actor ?? '';
  return {
    activityId: row.id,
    kind: 'comment',
    author: actor.startsWith('gitea:') ? actor.slice('gitea:'.length) : actor || 'someone',
    body,
    at: row.at,
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function lineOf(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** A commit message: `head`, then the fixer's first paragraph, then the bug's trailer. */
export function commitMessageWith(head: string[], bug: Bug, analysis: string): string {
  const lines = [...head];
  const firstParagraph = analysis
    .trim()
    .split(/\n\s*\n/)[0]
    ?.trim();
  if (firstParagraph) lines.push('', truncateMiddle(firstParagraph, 1_500));
  lines.push('', `Log-Center-Bug: ${bug.id}`);
  return `${lines.join('\n')}\n`;
}

/** `fix: address review on #<pr>`, the fixer's first paragraph, and the bug's trailer. */
export function followUpCommitMessage(bug: Bug, prNumber: number, analysis: string): string {
  return commitMessageWith([`fix: address review on #${prNumber} (bug #${bug.id})`], bug, analysis);
}
