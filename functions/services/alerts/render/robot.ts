/**
 * The markdown the DingTalk and WeCom group robots share: one bug's alert, a project's new-bug
 * digest and the test message, as lines. Report text goes through escapeRobotMarkdown; links
 * are only this server's own (PUBLIC_URL) and the bug's PR when it is plain http(s).
 */
import type { BugRow } from '../../../../schema';
import { isHttpUrl } from '../policy';
import {
  type AlertProject,
  type AlertView,
  bugUrl,
  contextString,
  escapeRobotMarkdown as md,
  projectUrl,
  type RenderConfig,
  robotUrl,
  TITLES,
  testSummaryOf,
  whereOf,
} from './text';

/** A digest lists this many bugs and counts the rest. */
export const ROBOT_DIGEST_LISTED = 10;

/** `label` must already be escaped. */
const link = (url: string | null | undefined, label: string) =>
  isHttpUrl(url) ? `[${label}](${robotUrl(url)})` : label;

export function robotTitle(view: AlertView): string {
  return `${TITLES[view.kind]}: #${view.bug.id} ${md(view.bug.errorType, 40)}`;
}

export function robotLines(view: AlertView, config: RenderConfig): string[] {
  const { bug } = view;
  const url = bugUrl(config, bug.id);
  const lines = [
    `### ${TITLES[view.kind]} · ${md(view.project.name, 100)}`,
    `**${link(url, `#${bug.id} ${md(bug.errorType, 200)}`)}**`,
    `> ${md(bug.errorMessage || '(no message)', 500)}`,
    '',
    `- Level: ${md(bug.level, 20)} · Source: ${md(bug.source, 20)} · Environment: ${md(bug.environment, 100)}`,
  ];
  const where = whereOf(bug);
  const runUrl = contextString(bug.context, 'run_url');
  if (where) lines.push(`- Where: ${link(runUrl, md(where, 200))}`);
  lines.push(`- Status: ${md(bug.status, 40)}`);
  const since = view.sinceLast === null ? '' : ` (+${view.sinceLast} since last alert)`;
  lines.push(`- Occurrences: ${bug.occurrenceCount}${since}`);
  if (bug.prNumber || bug.prUrl)
    lines.push(`- Pull request: ${link(bug.prUrl, bug.prNumber ? `#${bug.prNumber}` : 'open')}`);
  if (view.note) lines.push(`- Reason: ${md(view.note, 500)}`);
  const also = view.kinds.filter((k) => k !== view.kind);
  if (also.length) lines.push(`- Also since the last alert: ${also.map((k) => TITLES[k]).join(', ')}`);
  if (url) lines.push('', link(url, `Open #${bug.id} in Log Center`));
  return lines;
}

export function robotDigestLines(project: AlertProject, bugRows: BugRow[], config: RenderConfig): string[] {
  const lines = [`### ${bugRows.length} new bugs in ${md(project.name, 100)}`, ''];
  for (const bug of bugRows.slice(0, ROBOT_DIGEST_LISTED)) {
    const where = whereOf(bug);
    lines.push(
      `- ${md(bug.level, 20)} · **${link(bugUrl(config, bug.id), `#${bug.id} ${md(bug.errorType, 80)}`)}** ${md(bug.errorMessage, 120)}${where ? ` — ${md(where, 80)}` : ''}`,
    );
  }
  if (bugRows.length > ROBOT_DIGEST_LISTED) lines.push(`- …and ${bugRows.length - ROBOT_DIGEST_LISTED} more`);
  const board = projectUrl(config, project.id);
  if (board) lines.push('', link(board, `Open ${md(project.name, 100)} in Log Center`));
  return lines;
}

export function robotTestLines(project: AlertProject, config: RenderConfig): string[] {
  const url = projectUrl(config, project.id);
  const lines = [`### Log Center`, md(testSummaryOf(project), 300)];
  if (url) lines.push('', link(url, 'Open it in Log Center'));
  return lines;
}
