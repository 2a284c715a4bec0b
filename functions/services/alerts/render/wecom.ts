/**
 * WeCom (企业微信) group robot bodies: msgtype `markdown`, whose content WeCom caps at 4,096
 * bytes of UTF-8. Pure functions.
 */
import type { BugRow } from '../../../../schema';
import { robotDigestLines, robotLines, robotTestLines } from './robot';
import type { AlertProject, AlertView, RenderConfig } from './text';

export type WecomBody = { msgtype: 'markdown'; markdown: { content: string } };

export const WECOM_MAX_BYTES = 4_096;

/** Cuts at a character boundary so the content stays within WeCom's byte limit. */
export function clipBytes(text: string, max: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= max) return text;
  let bytes = 3; // the ellipsis
  let end = 0;
  for (const ch of text) {
    const size = encoder.encode(ch).length;
    if (bytes + size > max) break;
    bytes += size;
    end += ch.length;
  }
  return `${text.slice(0, end)}…`;
}

const body = (lines: string[]): WecomBody => ({
  msgtype: 'markdown',
  markdown: { content: clipBytes(lines.join('\n'), WECOM_MAX_BYTES) },
});

export const wecomMessage = (view: AlertView, config: RenderConfig) => body(robotLines(view, config));

export const wecomDigest = (project: AlertProject, bugRows: BugRow[], config: RenderConfig) =>
  body(robotDigestLines(project, bugRows, config));

export const wecomTestMessage = (project: AlertProject, config: RenderConfig) =>
  body(robotTestLines(project, config));
