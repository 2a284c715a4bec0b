import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  dingtalkDigest,
  dingtalkMessage,
  dingtalkSignature,
  dingtalkTestMessage,
  signDingtalkUrl,
} from '../../functions/services/alerts/render/dingtalk';
import { emailMessage, emailTestMessage } from '../../functions/services/alerts/render/email';
import { slackDigest, slackMessage, slackTestMessage } from '../../functions/services/alerts/render/slack';
import type { AlertView } from '../../functions/services/alerts/render/text';
import {
  webhookDigest,
  webhookMessage,
  webhookTestMessage,
} from '../../functions/services/alerts/render/webhook';
import {
  clipBytes,
  WECOM_MAX_BYTES,
  wecomDigest,
  wecomMessage,
  wecomTestMessage,
} from '../../functions/services/alerts/render/wecom';
import type { BugRow } from '../../schema';

// The renderers are pure: a bug row and a view in, a request body out. No server, no database.

const PUBLIC = { PUBLIC_URL: 'https://lc.example.com/' };
const NO_URL = { PUBLIC_URL: undefined };
const project = { id: 'shop-api', name: 'Shop API' };

function bugRow(overrides: Partial<BugRow> = {}): BugRow {
  return {
    id: 42,
    projectId: 'shop-api',
    fingerprint: 'fp-42',
    source: 'runtime',
    level: 'ERROR',
    environment: 'production',
    status: 'NEW',
    errorType: 'ValueError',
    errorMessage: "invalid literal for int() with base 10: 'abc'",
    filePath: 'apps/users/views.py',
    lineNumber: 42,
    stackTrace: ['Traceback (most recent call last):', '  File "apps/users/views.py", line 42, in get_user'],
    context: { request_id: 'req-7f3a', method: 'GET' },
    version: '1.8.0',
    commitHash: 'a1b2c3d4e5f60718293a',
    occurrenceCount: 3,
    regressionCount: 0,
    firstSeen: '2025-03-04T09:12:45.120Z',
    lastSeen: '2025-03-04T10:00:00.000Z',
    reopenedFrom: null,
    prNumber: null,
    prUrl: null,
    branchName: null,
    mergeCommitSha: null,
    mergedAt: null,
    deployedAt: null,
    claimedBy: null,
    leaseExpiresAt: null,
    leaseExpiryCount: 0,
    statusChangedAt: '2025-03-04T09:12:45.120Z',
    ...overrides,
  };
}

function view(overrides: Partial<AlertView> = {}): AlertView {
  return {
    kind: 'new_bug',
    kinds: [overrides.kind ?? 'new_bug'],
    bug: bugRow(),
    project,
    sinceLast: null,
    note: null,
    queuedAt: '2025-03-04T10:00:01.000Z',
    ...overrides,
  };
}

type Block = {
  type: string;
  text?: { type: string; text: string };
  fields?: { type: string; text: string }[];
  elements?: { type: string; text: string }[];
};
const blocksOf = (body: { blocks: Record<string, unknown>[] }) => body.blocks as Block[];
const fieldsOf = (body: { blocks: Record<string, unknown>[] }) =>
  blocksOf(body)
    .flatMap((b) => b.fields ?? [])
    .map((f) => f.text);
const contextOf = (body: { blocks: Record<string, unknown>[] }) =>
  blocksOf(body)
    .filter((b) => b.type === 'context')
    .flatMap((b) => b.elements ?? [])
    .map((e) => e.text);
const codeOf = (body: { blocks: Record<string, unknown>[] }) =>
  blocksOf(body).find((b) => b.text?.text.startsWith('```'))!.text!.text;

/** The documented shape (docs/alert-webhook.md): keys in the order they are sent. */
const MESSAGE_KEYS = [
  'event',
  'events',
  'project',
  'bug',
  'occurrences_since_last_alert',
  'url',
  'note',
  'summary',
  'queued_at',
];
const DIGEST_KEYS = ['event', 'project', 'count', 'bugs', 'url', 'summary'];
const TEST_KEYS = ['event', 'project', 'url', 'summary'];
const BUG_KEYS = [
  'id',
  'project_id',
  'fingerprint',
  'source',
  'level',
  'environment',
  'status',
  'error',
  'context',
  'version',
  'commit_hash',
  'occurrence_count',
  'regression_count',
  'first_seen',
  'last_seen',
  'status_changed_at',
  'pr_number',
  'pr_url',
  'branch_name',
  'merge_commit_sha',
  'merged_at',
  'deployed_at',
  'claimed_by',
  'lease_expires_at',
];
const ERROR_KEYS = ['type', 'message', 'file_path', 'line_number', 'stack_trace'];

/** The webhook's bug object for `bugRow()` with these overrides, written out field by field. */
function expectedWebhookBug(overrides: Record<string, unknown> = {}) {
  return {
    id: 42,
    project_id: 'shop-api',
    fingerprint: 'fp-42',
    source: 'runtime',
    level: 'ERROR',
    environment: 'production',
    status: 'NEW',
    error: {
      type: 'ValueError',
      message: "invalid literal for int() with base 10: 'abc'",
      file_path: 'apps/users/views.py',
      line_number: 42,
      stack_trace: [
        'Traceback (most recent call last):',
        '  File "apps/users/views.py", line 42, in get_user',
      ],
    },
    context: { request_id: 'req-7f3a', method: 'GET' },
    version: '1.8.0',
    commit_hash: 'a1b2c3d4e5f60718293a',
    occurrence_count: 3,
    regression_count: 0,
    first_seen: '2025-03-04T09:12:45.120Z',
    last_seen: '2025-03-04T10:00:00.000Z',
    status_changed_at: '2025-03-04T09:12:45.120Z',
    pr_number: null,
    pr_url: null,
    branch_name: null,
    merge_commit_sha: null,
    merged_at: null,
    deployed_at: null,
    claimed_by: null,
    lease_expires_at: null,
    ...overrides,
  };
}

describe('Slack message', () => {
  it('leads with kind, project, level and source, links the title to the bug and lists the facts', () => {
    const body = slackMessage(view(), PUBLIC);
    expect(body.text).toBe(
      ":red_circle: [ERROR] New bug: #42 in Shop API: ValueError: invalid literal for int() with base 10: 'abc'",
    );
    expect(blocksOf(body)[0]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ':red_circle: *New bug* · *Shop API* · ERROR · runtime\n*<https://lc.example.com/bugs/42|#42 ValueError>*',
      },
    });
    expect(codeOf(body)).toBe(
      '```invalid literal for int() with base 10: \'abc\'\nTraceback (most recent call last):\n  File "apps/users/views.py", line 42, in get_user```',
    );
    expect(fieldsOf(body)).toEqual([
      '*Where*\napps/users/views.py:42',
      '*Environment*\nproduction',
      '*Status*\nNEW',
      '*Occurrences*\n3',
      '*Last seen*\n<!date^1741082400^{date_short_pretty} {time}|2025-03-04T10:00:00.000Z>',
      '*Version*\n1.8.0 @ a1b2c3d4e5f6',
    ]);
    expect(contextOf(body)).toEqual([
      'request_id: req-7f3a',
      'method: GET',
      '<https://lc.example.com/bugs/42|Open #42 in Log Center>',
    ]);
  });

  it('counts the occurrences since the last alert and names the other kinds the message carries', () => {
    const body = slackMessage(
      view({
        kind: 'regression',
        kinds: ['regression', 'new_bug'],
        bug: bugRow({ occurrenceCount: 9, regressionCount: 1, level: 'CRITICAL' }),
        sinceLast: 4,
      }),
      PUBLIC,
    );
    expect(body.text).toBe(
      ":rotating_light: [CRITICAL] Regression: #42 in Shop API: ValueError: invalid literal for int() with base 10: 'abc' (+4 since last alert)",
    );
    expect(fieldsOf(body)).toContain('*Occurrences*\n9 (+4 since last alert)');
    expect(fieldsOf(body)).toContain('*Regressions*\n1');
    expect(contextOf(body)).toContain('Also since the last alert: New bug');
  });

  it('gives the reason of a failure, and how long a review has waited', () => {
    const failed = slackMessage(view({ kind: 'failed', note: 'tests still fail <after> the patch' }), PUBLIC);
    expect(blocksOf(failed)).toContainEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*Reason*\ntests still fail &lt;after&gt; the patch' },
    });
    expect(blocksOf(failed)[0]!.text!.text).toContain('*Fix failed*');

    const reminder = slackMessage(
      view({
        kind: 'reminder',
        bug: bugRow({
          status: 'PENDING_REVIEW',
          statusChangedAt: '2025-03-03T04:00:00.000Z',
          prNumber: 12,
          prUrl: 'https://gitea.example.com/shop/api/pulls/12',
        }),
        queuedAt: '2025-03-04T10:30:00.000Z',
      }),
      PUBLIC,
    );
    expect(fieldsOf(reminder)).toContain('*In review for*\n30 h');
    expect(fieldsOf(reminder)).toContain('*Pull request*\n<https://gitea.example.com/shop/api/pulls/12|#12>');
  });

  it('names the CI step (linked to the run) for pipelines and the pod for deployments', () => {
    const ci = slackMessage(
      view({
        bug: bugRow({
          source: 'cicd',
          filePath: null,
          lineNumber: null,
          context: {
            workflow: 'Build',
            job_name: 'deploy',
            step_name: 'push',
            run_url: 'https://ci.example.com/run?a=1&b=2|3',
          },
        }),
      }),
      PUBLIC,
    );
    // `&` is escaped and `|` (the label separator) percent-encoded inside the link.
    expect(fieldsOf(ci)[0]).toBe(
      '*Where*\n<https://ci.example.com/run?a=1&amp;b=2%7C3|CI Build › deploy › push>',
    );

    const pod = slackMessage(
      view({
        bug: bugRow({
          source: 'deployment',
          context: { pod_name: 'api-7d9f', namespace: 'prod', deployment_name: 'api' },
        }),
      }),
      PUBLIC,
    );
    expect(fieldsOf(pod)[0]).toBe('*Where*\npod api-7d9f (prod/api)');
  });

  it('escapes report text so it cannot mention the channel, forge links or leave the code block', () => {
    const body = slackMessage(
      view({
        bug: bugRow({
          errorType: '<!channel> & co',
          errorMessage: 'look ``` *bold* & <https://evil.example|your bank>',
          environment: '<!here>',
          stackTrace: ['```', 'at <@U024BE7LH>'],
          context: { request_id: '<!everyone>' },
          prNumber: 7,
          prUrl: 'javascript:alert(1)',
        }),
      }),
      PUBLIC,
    );
    const all = JSON.stringify(body);
    for (const raw of [
      '<!channel>',
      '<!here>',
      '<!everyone>',
      '<@U024BE7LH>',
      '<https://evil',
      'javascript:',
    ]) {
      expect(all).not.toContain(raw);
    }
    expect(blocksOf(body)[0]!.text!.text).toContain(
      '*<https://lc.example.com/bugs/42|#42 &lt;!channel&gt; &amp; co>*',
    );
    expect(body.text).toContain('&lt;!channel&gt; &amp; co');
    expect(fieldsOf(body)).toContain('*Environment*\n&lt;!here&gt;');
    // A link whose URL is not http(s) is left out; the label stays.
    expect(fieldsOf(body)).toContain('*Pull request*\n#7');
    expect(contextOf(body)).toContain('request_id: &lt;!everyone&gt;');

    const code = codeOf(body);
    expect(code.match(/```/g)).toHaveLength(2);
    expect(code.startsWith('```') && code.endsWith('```')).toBe(true);
    expect(code).toContain('look `\u200b`\u200b` *bold* &amp; &lt;https://evil.example|your bank&gt;');
  });

  it('shows the bug without links when PUBLIC_URL is not set', () => {
    const body = slackMessage(view(), NO_URL);
    expect(blocksOf(body)[0]!.text!.text).toBe(
      ':red_circle: *New bug* · *Shop API* · ERROR · runtime\n*#42 ValueError*',
    );
    expect(contextOf(body)).toEqual(['request_id: req-7f3a', 'method: GET']);
    expect(JSON.stringify(body)).not.toContain('http');
  });
});

describe('Slack digest', () => {
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => bugRow({ id: i + 1, level: i === 5 ? 'CRITICAL' : 'ERROR' }));

  it('lists ten bugs, counts the rest and links the project board', () => {
    const body = slackDigest({ id: 'shop api', name: 'Shop API' }, many(12), PUBLIC);
    expect(body.text).toBe(':rotating_light: 12 new bugs in Shop API');
    expect(blocksOf(body)[0]!.text!.text).toBe(':rotating_light: *12 new bugs* in *Shop API*');
    const lines = blocksOf(body)[1]!.text!.text.split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe(
      "• ERROR · *<https://lc.example.com/bugs/1|#1 ValueError>* invalid literal for int() with base 10: 'abc' — apps/users/views.py:42",
    );
    expect(lines[9]).toContain('#10 ValueError');
    expect(contextOf(body)).toEqual([
      '…and 2 more',
      '<https://lc.example.com/?project=shop%20api|Open Shop API in Log Center>',
    ]);
  });

  it('has no count line for ten bugs, and no links without PUBLIC_URL', () => {
    const body = slackDigest(project, many(10), NO_URL);
    expect(blocksOf(body)[1]!.text!.text.split('\n')).toHaveLength(10);
    expect(blocksOf(body)).toHaveLength(2);
    expect(JSON.stringify(body)).not.toContain('http');
    expect(JSON.stringify(body)).not.toContain('more');
  });
});

describe('webhook payload', () => {
  it('sends one bug alert in the documented shape, text exactly as reported', () => {
    const payload = webhookMessage(
      view({
        kind: 'failed',
        kinds: ['failed', 'recurring'],
        bug: bugRow({ status: 'FAILED', errorType: '<!channel> & co' }),
        sinceLast: 2,
        note: 'tests still fail',
      }),
      PUBLIC,
    );
    expect(Object.keys(payload)).toEqual(MESSAGE_KEYS);
    expect(payload).toEqual({
      event: 'failed',
      events: ['failed', 'recurring'],
      project: { id: 'shop-api', name: 'Shop API' },
      bug: expectedWebhookBug({
        status: 'FAILED',
        error: { ...expectedWebhookBug().error, type: '<!channel> & co' },
      }),
      occurrences_since_last_alert: 2,
      url: 'https://lc.example.com/bugs/42',
      note: 'tests still fail',
      summary:
        "[ERROR] Fix failed: #42 in Shop API: <!channel> & co: invalid literal for int() with base 10: 'abc' (+2 since last alert)",
      queued_at: '2025-03-04T10:00:01.000Z',
    });
    expect(Object.keys(payload.bug)).toEqual(BUG_KEYS);
    expect(Object.keys(payload.bug.error)).toEqual(ERROR_KEYS);
  });

  it('sends nulls, never missing keys, for what is not known', () => {
    const payload = webhookMessage(view(), NO_URL);
    expect(payload.url).toBeNull();
    expect(payload.note).toBeNull();
    expect(payload.occurrences_since_last_alert).toBeNull();
    expect(JSON.parse(JSON.stringify(payload.bug))).toEqual(expectedWebhookBug());
  });

  it('sends only the project id and name, whatever else the caller holds', () => {
    const richer = { ...project, ingestKey: 'secret', alertSettings: {} };
    expect(webhookMessage(view({ project: richer }), PUBLIC).project).toEqual(project);
    expect(webhookDigest(richer, [bugRow()], PUBLIC).project).toEqual(project);
  });

  it('sends a digest with every bug, not only the ten Slack lists', () => {
    const rows = Array.from({ length: 12 }, (_, i) => bugRow({ id: i + 1 }));
    const payload = webhookDigest({ id: 'shop api', name: 'Shop API' }, rows, PUBLIC);
    expect(Object.keys(payload)).toEqual(DIGEST_KEYS);
    expect({ ...payload, bugs: undefined }).toEqual({
      event: 'new_bug_digest',
      project: { id: 'shop api', name: 'Shop API' },
      count: 12,
      bugs: undefined,
      url: 'https://lc.example.com/?project=shop%20api',
      summary: '12 new bugs in Shop API',
    });
    expect(payload.bugs.map((b) => b.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(payload.bugs[0]).toEqual(expectedWebhookBug({ id: 1 }));
    expect(webhookDigest(project, rows, NO_URL).url).toBeNull();
  });

  it('lists exactly the bug fields docs/alert-webhook.md documents', () => {
    const doc = readFileSync(new URL('../../docs/alert-webhook.md', import.meta.url), 'utf8');
    const section = doc.split('## The bug object')[1]!.split('\n## ')[0]!;
    const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(BUG_KEYS);
    expect(Object.keys(webhookMessage(view(), PUBLIC).bug)).toEqual(documented);
  });

  describe('when the REST API changes its bug JSON', () => {
    afterEach(() => {
      vi.doUnmock('../../functions/services/bugs');
      vi.resetModules();
    });

    it('keeps the webhook bug object as documented', async () => {
      vi.resetModules();
      vi.doMock('../../functions/services/bugs', () => ({
        toApiBug: (row: BugRow) => ({ id: row.id, renamed: true }),
      }));
      const rest = await import('../../functions/services/bugs');
      expect(Object.keys(rest.toApiBug(bugRow()))).toEqual(['id', 'renamed']);

      const fresh = await import('../../functions/services/alerts/render/webhook');
      const message = fresh.webhookMessage(view(), PUBLIC);
      expect(Object.keys(message.bug)).toEqual(BUG_KEYS);
      expect(message.bug).toEqual(expectedWebhookBug());
      const digest = fresh.webhookDigest(project, [bugRow()], PUBLIC);
      expect(digest.bugs).toEqual([expectedWebhookBug()]);
    });
  });
});

describe('test message', () => {
  const named = { id: 'shop-api', name: 'Shop & Co' };

  it('tells Slack which project it is for, with a link to its board', () => {
    expect(slackTestMessage(named, PUBLIC)).toEqual({
      text: 'Test message: alerts for Shop &amp; Co reach this channel.',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: ':white_check_mark: Test message: alerts for *Shop &amp; Co* reach this channel.\n<https://lc.example.com/?project=shop-api|Open it in Log Center>',
          },
        },
      ],
    });
    expect(blocksOf(slackTestMessage(named, NO_URL))[0]!.text!.text).toBe(
      ':white_check_mark: Test message: alerts for *Shop &amp; Co* reach this channel.',
    );
  });

  it('sends the webhook the documented test event', () => {
    const payload = webhookTestMessage(named, PUBLIC);
    expect(Object.keys(payload)).toEqual(TEST_KEYS);
    expect(payload).toEqual({
      event: 'test',
      project: { id: 'shop-api', name: 'Shop & Co' },
      url: 'https://lc.example.com/?project=shop-api',
      summary: 'Test message: alerts for Shop & Co reach this channel.',
    });
    expect(webhookTestMessage(named, NO_URL).url).toBeNull();
  });
});

// Report text that tries to be markup in each channel: HTML for email, markdown, WeCom's
// <font>/<@mention> tags and DingTalk's links for the robots.
const HOSTILE_TYPE = 'Evil<b>Type</b>\r\nBcc: attacker@evil.test';
const HOSTILE_MESSAGE =
  '<script>alert(1)</script> & "quoted" \'single\' [click](http://evil.test) **bold** ' +
  '<font color="warning">red</font> <@all> `code`\n# Heading\n> quote';

describe('email', () => {
  it('says what happened to which bug, with the PR, the reason and a link back', () => {
    const mail = emailMessage(
      view({
        kind: 'failed',
        kinds: ['failed'],
        bug: bugRow({ status: 'FAILED', prNumber: 12, prUrl: 'https://git.example.com/o/r/pulls/12' }),
        note: 'tests still fail after 3 attempts',
      }),
      PUBLIC,
    );
    expect(mail.subject).toBe('[Log Center] Fix failed: #42 ValueError in Shop API');
    expect(mail.text).toContain('Fix failed: #42 ValueError');
    expect(mail.text).toContain('Project: Shop API');
    expect(mail.text).toContain('Pull request: #12 https://git.example.com/o/r/pulls/12');
    expect(mail.text).toContain('Reason: tests still fail after 3 attempts');
    expect(mail.text).toContain("invalid literal for int() with base 10: 'abc'");
    expect(mail.text).toContain('Open #42 in Log Center: https://lc.example.com/bugs/42');
    expect(mail.html).toContain('<a href="https://lc.example.com/bugs/42">#42 ValueError</a>');
    expect(mail.html).toContain('<a href="https://git.example.com/o/r/pulls/12">#12</a>');
    expect(mail.html).toContain('invalid literal for int() with base 10: &#39;abc&#39;');
  });

  it('titles merged and review-ready fixes, and links nothing without PUBLIC_URL', () => {
    const merged = emailMessage(
      view({
        kind: 'merged',
        kinds: ['merged'],
        bug: bugRow({ status: 'MERGED', mergeCommitSha: 'abcdef0123456789' }),
      }),
      NO_URL,
    );
    expect(merged.subject).toBe('[Log Center] Fix merged: #42 ValueError in Shop API');
    expect(merged.text).toContain('Merge commit: abcdef012345');
    expect(merged.html).not.toContain('<a ');
    expect(merged.text).not.toContain('Open #42');
    const review = emailMessage(view({ kind: 'pr_opened', kinds: ['pr_opened'] }), PUBLIC);
    expect(review.subject).toBe('[Log Center] Fix ready for review: #42 ValueError in Shop API');
  });

  it('escapes report text in the HTML part and keeps the subject on one line', () => {
    const mail = emailMessage(
      view({
        kind: 'failed',
        kinds: ['failed'],
        bug: bugRow({
          errorType: HOSTILE_TYPE,
          errorMessage: HOSTILE_MESSAGE,
          prUrl: 'javascript:alert(1)',
          prNumber: 3,
        }),
        note: '<img src=x onerror=alert(1)>',
      }),
      PUBLIC,
    );
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).toContain('Evil<b>Type</b> Bcc: attacker@evil.test');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('<b>Type');
    expect(mail.html).not.toContain('<img');
    expect(mail.html).not.toContain('<font');
    expect(mail.html).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;single&#39;',
    );
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // Only http(s) links: the javascript: PR URL is shown as text, not as a link.
    expect(mail.html).not.toContain('javascript:');
    expect(mail.html).toContain('<td>#3</td>');
  });

  it('has a test message naming the project', () => {
    const mail = emailTestMessage(project, PUBLIC);
    expect(mail.subject).toBe('[Log Center] Test message for Shop API');
    expect(mail.text).toContain('Test message: alerts for Shop API reach this channel.');
    expect(mail.html).toContain('href="https://lc.example.com/?project=shop-api"');
  });
});

describe('DingTalk and WeCom markdown', () => {
  it('DingTalk: a markdown message with a short title, the facts and a link back', () => {
    const body = dingtalkMessage(
      view({
        kind: 'failed',
        kinds: ['failed', 'new_bug'],
        note: 'lease expired',
        sinceLast: 2,
        bug: bugRow({ status: 'FAILED', prNumber: 7, prUrl: 'https://git.example.com/o/r/pulls/7' }),
      }),
      PUBLIC,
    );
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('Fix failed: #42 ValueError');
    const { text } = body.markdown;
    expect(text.split('\n')[0]).toBe('### Fix failed · Shop API');
    expect(text).toContain('**[#42 ValueError](https://lc.example.com/bugs/42)**');
    expect(text).toContain('- Occurrences: 3 (+2 since last alert)');
    expect(text).toContain('- Pull request: [#7](https://git.example.com/o/r/pulls/7)');
    expect(text).toContain('- Reason: lease expired');
    expect(text).toContain('- Also since the last alert: New bug');
    expect(text).toContain('[Open #42 in Log Center](https://lc.example.com/bugs/42)');
  });

  it('WeCom: the same lines as markdown content', () => {
    const body = wecomMessage(
      view({ kind: 'merged', kinds: ['merged'], bug: bugRow({ status: 'MERGED' }) }),
      PUBLIC,
    );
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content.split('\n')[0]).toBe('### Fix merged · Shop API');
    expect(body.markdown.content).toContain('- Status: MERGED');
  });

  it('neutralises markdown, HTML, mentions and links in report text for both robots', () => {
    const hostile = view({
      bug: bugRow({ errorType: HOSTILE_TYPE, errorMessage: HOSTILE_MESSAGE }),
      project: { id: 'p', name: '**Shop** [x](http://evil.test)' },
    });
    for (const text of [
      dingtalkMessage(hostile, PUBLIC).markdown.text,
      wecomMessage(hostile, PUBLIC).markdown.content,
    ]) {
      expect(text).not.toContain('[click](');
      expect(text).not.toContain('](http://evil.test)');
      expect(text).not.toContain('<font');
      expect(text).not.toContain('<@all>');
      expect(text).not.toContain('<script>');
      expect(text).not.toContain('**bold**');
      expect(text).not.toContain('`code`');
      expect(text).not.toMatch(/\n# Heading/);
      expect(text).not.toMatch(/\n> quote/);
      // Still readable: the full-width twins of the same characters.
      expect(text).toContain('＜script＞alert（1）＜/script＞');
      expect(text).toContain('［click］（http://evil.test）');
      expect(text).toContain('＜＠all＞');
      expect(text).toContain('### New bug · ＊＊Shop＊＊ ［x］（http://evil.test）');
      // Our own link survives; the report cannot add another.
      expect(text.match(/\]\(/g)).toHaveLength(2);
    }
  });

  it('keeps WeCom content within 4,096 bytes of UTF-8, cutting between characters', () => {
    const long = view({ bug: bugRow({ errorMessage: '错误'.repeat(3_000) }) });
    const content = wecomMessage(long, PUBLIC).markdown.content;
    expect(new TextEncoder().encode(content).length).toBeLessThanOrEqual(WECOM_MAX_BYTES);
    expect(content).not.toContain('\uFFFD');
    expect(clipBytes('ab错', 4)).toBe('a…');
    expect(clipBytes('short', 10)).toBe('short');
  });

  it('digests list ten bugs and count the rest; test messages name the project', () => {
    const rows = Array.from({ length: 12 }, (_, i) => bugRow({ id: 100 + i }));
    const ding = dingtalkDigest(project, rows, PUBLIC);
    expect(ding.markdown.title).toBe('12 new bugs in Shop API');
    expect(ding.markdown.text).toContain('[#100 ValueError](https://lc.example.com/bugs/100)');
    expect(ding.markdown.text).not.toContain('#110 ');
    expect(ding.markdown.text).toContain('- …and 2 more');
    expect(wecomDigest(project, rows, PUBLIC).markdown.content).toContain(
      '[Open Shop API in Log Center](https://lc.example.com/?project=shop-api)',
    );
    expect(dingtalkTestMessage(project, PUBLIC).markdown.text).toContain(
      'Test message: alerts for Shop API reach this channel.',
    );
    expect(wecomTestMessage(project, NO_URL).markdown.content).not.toContain('](');
  });
});

describe('DingTalk signature', () => {
  it('is base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded after the access token', async () => {
    const secret = 'SEC0123456789abcdef';
    const timestamp = 1_700_000_000_123;
    // Computed independently with node:crypto, as DingTalk's own Java/Python samples do.
    const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
    expect(await dingtalkSignature(secret, timestamp)).toBe(expected);
    const url = await signDingtalkUrl(
      'https://oapi.dingtalk.com/robot/send?access_token=abc',
      secret,
      timestamp,
    );
    expect(url).toBe(
      `https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=${timestamp}&sign=${encodeURIComponent(expected)}`,
    );
    expect(new URL(url).searchParams.get('sign')).toBe(expected);
  });
});
