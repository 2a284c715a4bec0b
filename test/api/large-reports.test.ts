import { gunzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sentryLargeEnvelope } from '../../bench/sentry-envelope';
import { heldBytes } from '../../functions/services/group-commit';
import { normaliseReport } from '../../functions/services/report';
import { parseEnvelope } from '../../functions/services/sentry/envelope';
import { normaliseSentryEvent, parseEventJson } from '../../functions/services/sentry/event';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, startLogCenter, uniqueProject } from '../helpers/server';

// Big reports in small memory: the write queue bounds what its reports hold (their stored
// text), not the bodies they came in, and answers 429 with Retry-After past the bound.

/** About 200 KiB: 190 stack lines of 1 KiB, near the 256 KiB limit. */
const largeReport = (project: string, line: number) => ({
  ...runtimeReport(project),
  error: {
    ...runtimeReport(project).error,
    line_number: line,
    stack_trace: Array.from(
      { length: 190 },
      (_, i) => `  File "app/views.py", line ${i} ${'x'.repeat(1_000)}`,
    ),
  },
});

/** Bytes a queue of ~200 KiB reports holds two of, not three. */
const QUEUE_BYTES = 450_000;

let lc: LogCenterHandle;
beforeAll(async () => {
  // Reports wait 300 ms for company, so concurrent ones are all queued before any is written.
  lc = await startLogCenter({ groupCommit: { maxDelayMs: 300, maxQueueBytes: QUEUE_BYTES } });
});
afterAll(() => lc.stop());

const storedOccurrences = async (project: string) =>
  (
    await lc.server.deps.db.all<{ n: number | null }>(
      sql`SELECT sum(occurrence_count) AS n FROM bugs WHERE project_id = ${project}`,
    )
  )[0]?.n ?? 0;

describe('what a queued report holds', () => {
  it('is its stored stack and context, not the ~1 MiB Sentry event it came in', () => {
    const envelope = parseEnvelope(gunzipSync(sentryLargeEnvelope(1, 'http://public@localhost/1')));
    const payload = envelope.items[0]!.payload;
    expect(payload.byteLength).toBeGreaterThan(900_000);
    const { report } = normaliseSentryEvent(parseEventJson(payload), {
      projectId: 'big_events',
      receivedAt: new Date().toISOString(),
    });
    const held = heldBytes(report);
    expect(held).toBeGreaterThanOrEqual(report.stackJson.length + report.contextJson.length);
    expect(held).toBeLessThan(64 * 1024);
  });

  it('is about the size of a ~200 KiB native report, whose stack is kept whole', () => {
    const outcome = normaliseReport(largeReport('big_native', 1), new Date().toISOString());
    if (!outcome.ok) throw new Error('fixture did not validate');
    expect(heldBytes(outcome.report)).toBeGreaterThan(190_000);
  });
});

describe('the queue bound over HTTP', () => {
  it('answers 429 queue_full with Retry-After for ~200 KiB reports past it, and stores every 2xx', async () => {
    const project = uniqueProject('big');
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => lc.report(largeReport(project, i))),
    );
    const ok = answers.filter((r) => r.status === 200);
    const refused = answers.filter((r) => r.status === 429);
    expect(ok.length + refused.length).toBe(6);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const answer of refused) {
      expect(answer.headers.get('Retry-After')).toMatch(/^\d+$/);
      expect(await answer.json()).toMatchObject({ error: { code: 'queue_full' } });
    }
    expect(await storedOccurrences(project)).toBe(ok.length);
  });

  it('takes concurrent ~1 MiB Sentry events that hold little once read, far past the bound in body bytes', async () => {
    const project = uniqueProject('bigsentry');
    await lc.api(`/api/v1/projects/${project}`, { method: 'PUT', body: '{}' });
    const { sentry_id, sentry_dsn } = (await (await lc.api(`/api/v1/projects/${project}`)).json()) as {
      sentry_id: number;
      sentry_dsn: string;
    };
    const count = 4;
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        lc.fetch(`/api/${sentry_id}/envelope/`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-sentry-envelope',
            'Content-Encoding': 'gzip',
            'X-Sentry-Auth': 'Sentry sentry_key=public, sentry_version=7',
          },
          body: new Uint8Array(sentryLargeEnvelope(i, sentry_dsn)),
        }),
      ),
    );
    // 4 MB of events against a 450 KB bound: counted by body they would not have fitted.
    expect(answers.map((r) => r.status)).toEqual(Array(count).fill(200));
    expect(await storedOccurrences(project)).toBe(count);
  });
});
