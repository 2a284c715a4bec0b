/**
 * Slack incoming-webhook bodies (Block Kit): one bug's alert, a project's new-bug digest and
 * the test message. Pure functions of the bug or view and the configuration.
 */
import type { BugRow } from '../../../../schema';
import { isHttpUrl, LEVEL_RANK } from '../policy';
import {
  type AlertProject,
  type AlertView,
  bugUrl,
  clip,
  contextString,
  digestSummaryOf,
  esc,
  escapeMrkdwn,
  oneLine,
  projectUrl,
  type RenderConfig,
  summaryOf,
  TITLES,
  testSummaryOf,
  whereOf,
} from './text';

export type SlackBody = { text: string; blocks: Record<string, unknown>[] };

/** A digest lists this many bugs and counts the rest. */
export const DIGEST_LISTED = 10;

const LEVEL_EMOJI: Record<string, string> = {
  CRITICAL: ':rotating_light:',
  ERROR: ':red_circle:',
  WARNING: ':warning:',
  INFO: ':information_source:',
  DEBUG: ':white_circle:',
};

/** Context keys that help whoever reads the alert find the failing request, run or pod. */
const CONTEXT_KEYS = [
  'request_id',
  'trace_id',
  'method',
  'url',
  'branch',
  'actor',
  'container_name',
  'restart_count',
];

function codeBlock(text: string, max: number): string {
  // A fence inside the text would end the block and let the rest render as mrkdwn.
  const body = clip(escapeMrkdwn(text).replace(/```/g, '`\u200b`\u200b`'), max - 6);
  return `\`\`\`${body}\`\`\``;
}

/** `label` must already be escaped; a URL that is not plain http(s) is left out. */
function slackLink(url: string | null | undefined, label: string): string {
  if (!isHttpUrl(url)) return label;
  return `<${escapeMrkdwn(url).replace(/\|/g, '%7C')}|${label}>`;
}

/** Slack renders this in the reader's time zone; the fallback is the stored UTC time. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return esc(iso);
  return `<!date^${seconds}^{date_short_pretty} {time}|${esc(iso)}>`;
}

/** Long traces keep both ends: the throw site and the outermost frame are what people read. */
function stackExcerpt(lines: string[]): string[] {
  if (lines.length <= 6) return lines;
  return [...lines.slice(0, 3), '…', ...lines.slice(-3)];
}

export function slackMessage(view: AlertView, config: RenderConfig): SlackBody {
  const { bug } = view;
  const url = bugUrl(config, bug.id);
  const emoji = LEVEL_EMOJI[bug.level] ?? ':red_circle:';
  const heading = `${emoji} *${TITLES[view.kind]}* · *${esc(view.project.name, 100)}* · ${esc(bug.level, 20)} · ${esc(bug.source, 20)}`;
  const title = `*${slackLink(url, `#${bug.id} ${esc(oneLine(bug.errorType), 200)}`)}*`;

  const fields: string[] = [];
  const where = whereOf(bug);
  const runUrl = contextString(bug.context, 'run_url');
  if (where) fields.push(`*Where*\n${runUrl ? slackLink(runUrl, esc(where)) : esc(where)}`);
  fields.push(`*Environment*\n${esc(bug.environment, 100)}`);
  fields.push(`*Status*\n${esc(bug.status, 40)}`);
  const since = view.sinceLast === null ? '' : ` (+${view.sinceLast} since last alert)`;
  fields.push(`*Occurrences*\n${bug.occurrenceCount}${since}`);
  fields.push(`*Last seen*\n${slackDate(bug.lastSeen)}`);
  if (bug.regressionCount > 0) fields.push(`*Regressions*\n${bug.regressionCount}`);
  if (bug.version || bug.commitHash) {
    fields.push(
      `*Version*\n${esc([bug.version, bug.commitHash?.slice(0, 12)].filter(Boolean).join(' @ '), 100)}`,
    );
  }
  if (bug.prNumber || bug.prUrl) {
    fields.push(`*Pull request*\n${slackLink(bug.prUrl, bug.prNumber ? `#${bug.prNumber}` : 'open')}`);
  }
  if (view.kind === 'reminder') {
    const hours = Math.floor((Date.parse(view.queuedAt) - Date.parse(bug.statusChangedAt)) / 3_600_000);
    fields.push(`*In review for*\n${hours} h`);
  }

  const details = [bug.errorMessage, ...stackExcerpt(bug.stackTrace ?? [])].join('\n');
  const blocks: Record<string, unknown>[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `${heading}\n${title}` } },
    { type: 'section', text: { type: 'mrkdwn', text: codeBlock(details || '(no message)', 2_000) } },
    {
      type: 'section',
      fields: fields.slice(0, 10).map((text) => ({ type: 'mrkdwn', text: clip(text, 1_900) })),
    },
  ];
  if (view.note) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Reason*\n${esc(view.note, 1_500)}` } });
  }
  const context: string[] = [];
  for (const key of CONTEXT_KEYS) {
    const value = contextString(bug.context, key);
    if (value) context.push(`${key}: ${esc(value, 150)}`);
  }
  const also = view.kinds.filter((k) => k !== view.kind);
  if (also.length) context.push(`Also since the last alert: ${also.map((k) => TITLES[k]).join(', ')}`);
  if (url) context.push(slackLink(url, `Open #${bug.id} in Log Center`));
  if (context.length) {
    blocks.push({
      type: 'context',
      elements: context.slice(0, 10).map((text) => ({ type: 'mrkdwn', text })),
    });
  }
  return { text: esc(`${LEVEL_EMOJI[bug.level] ?? ''} ${summaryOf(view)}`.trim(), 400), blocks };
}

const maxLevel = (rows: BugRow[]) =>
  rows.reduce((top, b) => ((LEVEL_RANK[b.level] ?? 0) > (LEVEL_RANK[top] ?? 0) ? b.level : top), 'DEBUG');

export function slackDigest(project: AlertProject, bugRows: BugRow[], config: RenderConfig): SlackBody {
  const emoji = LEVEL_EMOJI[maxLevel(bugRows)] ?? ':red_circle:';
  const heading = `${emoji} *${bugRows.length} new bugs* in *${esc(project.name, 100)}*`;
  const lines = bugRows.slice(0, DIGEST_LISTED).map((bug) => {
    const where = whereOf(bug);
    const link = slackLink(bugUrl(config, bug.id), `#${bug.id} ${esc(oneLine(bug.errorType), 80)}`);
    return `• ${esc(bug.level, 20)} · *${link}* ${esc(oneLine(bug.errorMessage), 120)}${where ? ` — ${esc(oneLine(where), 80)}` : ''}`;
  });
  const context: string[] = [];
  if (bugRows.length > DIGEST_LISTED) context.push(`…and ${bugRows.length - DIGEST_LISTED} more`);
  const board = projectUrl(config, project.id);
  if (board) context.push(slackLink(board, `Open ${esc(project.name, 100)} in Log Center`));
  const blocks: Record<string, unknown>[] = [
    { type: 'section', text: { type: 'mrkdwn', text: heading } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), 2_900) } },
  ];
  if (context.length)
    blocks.push({ type: 'context', elements: context.map((text) => ({ type: 'mrkdwn', text })) });
  return {
    text: esc(`${emoji} ${digestSummaryOf(project, bugRows.length)}`, 400),
    blocks,
  };
}

/** `project.name` is what people call it: the project's name, or its id when it has none. */
export function slackTestMessage(project: AlertProject, config: RenderConfig): SlackBody {
  const url = projectUrl(config, project.id);
  return {
    text: esc(testSummaryOf(project)),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:white_check_mark: Test message: alerts for *${esc(project.name, 100)}* reach this channel.${url ? `\n${slackLink(url, 'Open it in Log Center')}` : ''}`,
        },
      },
    ],
  };
}
