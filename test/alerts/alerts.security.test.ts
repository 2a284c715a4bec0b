import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogCenterApp } from '../helpers/app';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, uniqueProject } from '../helpers/server';
import { hooksFor, LOOPBACK_TARGETS, Receiver, slackFor, waitFor } from './support';

// Local HTTP receivers stand in for Slack's incoming webhook and for the generic webhook.
const slack = new Receiver();
const hook = new Receiver();
const PUBLIC_URL = 'https://log-center.example.com';

let lc: LogCenterHandle;
beforeAll(async () => {
  await Promise.all([slack.start(), hook.start()]);
  lc = await startLogCenterApp({
    env: {
      ...LOOPBACK_TARGETS,
      SLACK_WEBHOOK_URL: `${slack.url}/slack`,
      ALERT_WEBHOOK_URL: `${hook.url}/hook`,
      PUBLIC_URL,
    },
  });
});
afterAll(async () => {
  await lc.stop();
  await Promise.all([slack.stop(), hook.stop()]);
});

/** Every string a Slack client would parse as mrkdwn: top-level text, section texts, fields, context. */
function mrkdwnStrings(body: { text: string; blocks: Record<string, unknown>[] }): string[] {
  const out = [body.text];
  for (const block of body.blocks) {
    const { text, fields, elements } = block as {
      text?: { text: string };
      fields?: { text: string }[];
      elements?: { text: string }[];
    };
    if (text) out.push(text.text);
    for (const f of fields ?? []) out.push(f.text);
    for (const e of elements ?? []) out.push(e.text);
  }
  return out;
}

describe('hostile report text in Slack messages', () => {
  it('is escaped, so it cannot mention the channel, forge links or break out of the code block', async () => {
    const project = uniqueProject('hostile');
    const hostile = runtimeReport(project, {
      environment: 'prod <!here>',
      error: {
        type: '<!channel> Pwned',
        message: 'click <https://evil.example/login|your bank> & ping <@U024BE7LH> ``` *bold*',
        file_path: 'src/<script>.js',
        line_number: 7,
        stack_trace: ['at <!subteam^S123>', '```', 'line & more'],
      },
      context: { request_id: '<!everyone>', url: '/a?b=<c>&d' },
    });
    const res = await lc.report(hostile);
    expect(res.status).toBe(200);
    const { id } = await res.json();
    await waitFor(() => slackFor(slack, project).length === 1 && hooksFor(hook, project).length === 1);

    const body = slackFor(slack, project)[0]!.body;
    for (const text of mrkdwnStrings(body)) {
      // The only angle-bracket tokens left are the ones Log Center writes itself.
      for (const token of text.match(/<[^>]*>/g) ?? []) {
        expect(token).toMatch(new RegExp(`^<(${PUBLIC_URL}/bugs/${id}\\||!date\\^\\d+\\^)`));
      }
    }
    const all = JSON.stringify(body);
    for (const raw of [
      '<!channel>',
      '<!here>',
      '<@U024BE7LH>',
      '<https://evil.example',
      '<!everyone>',
      '<script>',
    ]) {
      expect(all).not.toContain(raw);
    }
    expect(all).toContain('&lt;!channel&gt; Pwned');
    expect(all).toContain('&lt;https://evil.example/login|your bank&gt; &amp; ping &lt;@U024BE7LH&gt;');
    expect(all).toContain('src/&lt;script&gt;.js:7');
    // The code block opens once and closes once: the fences in the report are broken up.
    const code = (body.blocks as { text?: { text: string } }[]).find((b) => b.text?.text.startsWith('```'))!
      .text!.text;
    expect(code.match(/```/g)).toHaveLength(2);
    expect(code.endsWith('```')).toBe(true);

    // The generic webhook is JSON: it carries the text exactly as reported.
    const call = hooksFor(hook, project)[0]!.body;
    expect(call.bug.error.type).toBe('<!channel> Pwned');
    expect(call.bug.context.request_id).toBe('<!everyone>');
  });

  it('keeps sensitive context keys filtered in alerts too', async () => {
    const project = uniqueProject('hostile');
    await lc.report(runtimeReport(project, { context: { db_password: 'hunter2', request_id: 'req-1' } }));
    await waitFor(() => slackFor(slack, project).length === 1 && hooksFor(hook, project).length === 1);
    expect(JSON.stringify(slackFor(slack, project)[0]!.body)).not.toContain('hunter2');
    expect(JSON.stringify(hooksFor(hook, project)[0]!.body)).not.toContain('hunter2');
    expect(hooksFor(hook, project)[0]!.body.bug.context.db_password).toBe('[Filtered]');
  });
});
