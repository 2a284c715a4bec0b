/**
 * Email bodies: a subject, a plain-text part and an HTML part, for the alerts a person acts on
 * (pr_opened, merged, failed) and the test message. Pure functions. Report text is escaped
 * for HTML in the HTML part; the subject is one line, so no header can be smuggled into it.
 */
import { isHttpUrl } from '../policy';
import {
  type AlertProject,
  type AlertView,
  bugUrl,
  oneLine,
  projectUrl,
  type RenderConfig,
  TITLES,
  testSummaryOf,
  whereOf,
} from './text';

export type EmailBody = { subject: string; text: string; html: string };

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch]!);

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** One line, no control characters, at most `max` characters. */
export const subjectLine = (text: string, max = 200) => cut(oneLine(text.replace(/\p{Cc}/gu, ' ')), max);

/** Only plain http(s) URLs become links; the URL is escaped as an attribute value. */
const htmlLink = (url: string | null | undefined, label: string) =>
  isHttpUrl(url) ? `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>` : escapeHtml(label);

const LAYOUT = (title: string, inner: string) =>
  `<!doctype html><html><body style="font-family:sans-serif;font-size:14px;color:#1f2328">` +
  `<h2 style="font-size:16px">${title}</h2>${inner}` +
  `<p style="color:#656d76;font-size:12px">Sent by Log Center.</p></body></html>`;

export function emailMessage(view: AlertView, config: RenderConfig): EmailBody {
  const { bug } = view;
  const url = bugUrl(config, bug.id);
  const title = TITLES[view.kind];
  const subject = subjectLine(`[Log Center] ${title}: #${bug.id} ${bug.errorType} in ${view.project.name}`);

  const rows: [string, string, string | null][] = [
    ['Project', view.project.name, null],
    ['Level', bug.level, null],
    ['Source', bug.source, null],
    ['Environment', bug.environment, null],
    ['Status', bug.status, null],
    ['Occurrences', String(bug.occurrenceCount), null],
  ];
  const where = whereOf(bug);
  if (where) rows.push(['Where', where, null]);
  if (bug.prNumber || bug.prUrl)
    rows.push(['Pull request', bug.prNumber ? `#${bug.prNumber}` : 'open', bug.prUrl]);
  if (bug.branchName) rows.push(['Branch', bug.branchName, null]);
  if (bug.mergeCommitSha) rows.push(['Merge commit', bug.mergeCommitSha.slice(0, 12), null]);
  const message = cut(bug.errorMessage || '(no message)', 4_000);
  const note = view.note ? cut(view.note, 2_000) : null;
  const stack = (bug.stackTrace ?? []).slice(0, 20);

  const text = [
    `${title}: #${bug.id} ${oneLine(bug.errorType)}`,
    '',
    ...rows.map(
      ([label, value, link]) => `${label}: ${oneLine(value)}${link && isHttpUrl(link) ? ` ${link}` : ''}`,
    ),
    ...(note ? ['', `Reason: ${note}`] : []),
    '',
    message,
    ...(stack.length ? ['', ...stack] : []),
    ...(url ? ['', `Open #${bug.id} in Log Center: ${url}`] : []),
  ].join('\n');

  const table = rows
    .map(
      ([label, value, link]) =>
        `<tr><th align="left" style="padding-right:12px">${label}</th><td>${link ? htmlLink(link, value) : escapeHtml(value)}</td></tr>`,
    )
    .join('');
  const html = LAYOUT(
    `${escapeHtml(title)}: ${htmlLink(url, `#${bug.id} ${oneLine(bug.errorType)}`)}`,
    `<table>${table}</table>` +
      (note ? `<p><strong>Reason</strong><br>${escapeHtml(note)}</p>` : '') +
      `<pre style="white-space:pre-wrap;background:#f6f8fa;padding:8px">${escapeHtml([message, ...stack].join('\n'))}</pre>` +
      (url ? `<p>${htmlLink(url, `Open #${bug.id} in Log Center`)}</p>` : ''),
  );
  return { subject, text, html };
}

export function emailTestMessage(project: AlertProject, config: RenderConfig): EmailBody {
  const url = projectUrl(config, project.id);
  const summary = testSummaryOf(project);
  return {
    subject: subjectLine(`[Log Center] Test message for ${project.name}`),
    text: [summary, ...(url ? ['', url] : [])].join('\n'),
    html: LAYOUT(
      'Log Center',
      `<p>${escapeHtml(summary)}</p>${url ? `<p>${htmlLink(url, 'Open it in Log Center')}</p>` : ''}`,
    ),
  };
}
