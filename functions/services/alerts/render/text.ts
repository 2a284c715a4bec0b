/**
 * What every alert renderer says about a bug: titles, where it happened, a one-line summary,
 * links back to Log Center, and the escaping of report text for Slack mrkdwn.
 * Pure functions: no database, no fetch.
 */
import type { AlertKind, BugRow } from '../../../../schema';
import type { AlertConfig } from '../policy';

/** Renderers only need to know where Log Center is served, to link back to it. */
export type RenderConfig = Pick<AlertConfig, 'PUBLIC_URL'>;

export interface AlertProject {
  id: string;
  name: string;
}

export interface AlertView {
  kind: AlertKind;
  /** Every kind this message carries (several alerts of one bug coalesce into one message). */
  kinds: AlertKind[];
  bug: BugRow;
  project: AlertProject;
  /** Occurrences since this bug's previous alert; null when this is its first. */
  sinceLast: number | null;
  /** Why the bug failed (the note of the change to FAILED), when there is one. */
  note: string | null;
  queuedAt: string;
}

export const TITLES: Record<AlertKind, string> = {
  new_bug: 'New bug',
  regression: 'Regression',
  failed: 'Fix failed',
  pr_opened: 'Fix ready for review',
  merged: 'Fix merged',
  reminder: 'Still waiting for review',
  recurring: 'Still occurring',
};

// Everything from a report is escaped for Slack mrkdwn: `<` would otherwise open a link or
// a mention (`<!channel>`), and `&` an entity.

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Shortens already-escaped text without cutting an entity in half. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).replace(/&[a-z]*$/, '')}…`;
}

export const esc = (text: string, max = 300) => clip(escapeMrkdwn(text), max);

/**
 * Report text for the DingTalk and WeCom robots' markdown. Neither documents backslash escapes,
 * so every character their renderers give a meaning to (emphasis, code, links, headings,
 * quotes, HTML such as WeCom's `<font>` and `<@user>` mentions, entities) is replaced by its
 * full-width twin: it reads the same and can mean nothing. Newlines become spaces, so report
 * text cannot start a heading, a quote or a list of its own.
 */
const ROBOT_TWINS: Record<string, string> = {
  '\\': '＼',
  '*': '＊',
  _: '＿',
  '`': '｀',
  '[': '［',
  ']': '］',
  '(': '（',
  ')': '）',
  '<': '＜',
  '>': '＞',
  '#': '＃',
  '~': '～',
  '|': '｜',
  '!': '！',
  '&': '＆',
  '@': '＠',
  '=': '＝',
};

export function escapeRobotMarkdown(text: string, max = 300): string {
  const flat = oneLine(text);
  const short = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return short.replace(/[\\*_`[\]()<>#~|!&@=]/g, (ch) => ROBOT_TWINS[ch] ?? ch);
}

/** A link target for robot markdown: our own http(s) URLs, with the characters that would end it encoded. */
export const robotUrl = (url: string) =>
  url.replace(/[()<>\s]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/** For headings and list items, where a newline in report text would break the layout. */
export const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

const baseUrl = (config: RenderConfig) => config.PUBLIC_URL?.replace(/\/+$/, '') || null;

export const bugUrl = (config: RenderConfig, id: number) => {
  const base = baseUrl(config);
  return base ? `${base}/bugs/${id}` : null;
};

export const projectUrl = (config: RenderConfig, projectId: string) => {
  const base = baseUrl(config);
  return base ? `${base}/?project=${encodeURIComponent(projectId)}` : null;
};

export function contextString(context: Record<string, unknown>, key: string): string | null {
  const value = context?.[key];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

/** file:line for runtime errors, the CI step for pipelines, the pod for deployments. */
export function whereOf(bug: BugRow): string | null {
  const context = bug.context ?? {};
  if (bug.source === 'cicd') {
    const steps = ['workflow', 'job_name', 'step_name'].map((k) => contextString(context, k)).filter(Boolean);
    return steps.length ? `CI ${steps.join(' › ')}` : 'CI';
  }
  if (bug.source === 'deployment') {
    const pod = contextString(context, 'pod_name');
    const owner = [contextString(context, 'namespace'), contextString(context, 'deployment_name')]
      .filter(Boolean)
      .join('/');
    return `pod ${pod ?? '?'}${owner ? ` (${owner})` : ''}`;
  }
  if (!bug.filePath) return null;
  return bug.lineNumber == null ? bug.filePath : `${bug.filePath}:${bug.lineNumber}`;
}

export function summaryOf(view: AlertView): string {
  const { bug } = view;
  const since = view.sinceLast === null ? '' : ` (+${view.sinceLast} since last alert)`;
  return oneLine(
    `[${bug.level}] ${TITLES[view.kind]}: #${bug.id} in ${view.project.name}: ${bug.errorType}: ${bug.errorMessage.slice(0, 200)}${since}`,
  );
}

export const digestSummaryOf = (project: AlertProject, count: number) =>
  `${count} new bugs in ${project.name}`;

export const testSummaryOf = (project: AlertProject) =>
  `Test message: alerts for ${project.name} reach this channel.`;
