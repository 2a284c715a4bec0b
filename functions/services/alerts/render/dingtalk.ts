/**
 * DingTalk group robot bodies (msgtype `markdown`: a title for the notification preview and
 * the text), and the signed URL a robot with a secret (加签) requires. Pure functions; the
 * signature uses WebCrypto, which both runtimes have.
 */
import type { BugRow } from '../../../../schema';
import { robotDigestLines, robotLines, robotTestLines, robotTitle } from './robot';
import { type AlertProject, type AlertView, escapeRobotMarkdown, type RenderConfig } from './text';

export type DingtalkBody = { msgtype: 'markdown'; markdown: { title: string; text: string } };

/** DingTalk refuses a markdown text much past 20,000 bytes; alerts stay far below. */
const MAX_TEXT = 5_000;

const body = (title: string, lines: string[]): DingtalkBody => {
  const text = lines.join('\n');
  return {
    msgtype: 'markdown',
    markdown: { title, text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text },
  };
};

export const dingtalkMessage = (view: AlertView, config: RenderConfig) =>
  body(robotTitle(view), robotLines(view, config));

export const dingtalkDigest = (project: AlertProject, bugRows: BugRow[], config: RenderConfig) =>
  body(
    escapeRobotMarkdown(`${bugRows.length} new bugs in ${project.name}`, 64),
    robotDigestLines(project, bugRows, config),
  );

export const dingtalkTestMessage = (project: AlertProject, config: RenderConfig) =>
  body('Log Center test message', robotTestLines(project, config));

const base64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

/** base64(HMAC-SHA256(key = secret, `${timestamp}\n${secret}`)), as DingTalk's docs give it. */
export async function dingtalkSignature(secret: string, timestampMs: number): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return base64(await crypto.subtle.sign('HMAC', key, encoder.encode(`${timestampMs}\n${secret}`)));
}

/**
 * The robot URL with `&timestamp=<ms>&sign=<url-encoded signature>` appended. Signed at each
 * attempt, not when the message is rendered: DingTalk refuses a timestamp more than an hour
 * old, and a retry may come later than that.
 */
export async function signDingtalkUrl(url: string, secret: string, timestampMs: number): Promise<string> {
  const sign = encodeURIComponent(await dingtalkSignature(secret, timestampMs));
  return `${url}${url.includes('?') ? '&' : '?'}timestamp=${timestampMs}&sign=${sign}`;
}
