import { describe, expect, it } from 'vitest';
import { parseJsonLenient, printableReason } from '../../functions/services/json-repair';
import { normaliseReport, truncateBytes } from '../../functions/services/report';

// docs/api.md, limits "text work": truncation and normalisation are linear in the input. Unit level, with
// no server in the process, so the cost ratio below measures normalisation alone.
const KiB = 1024;
const NOW = '2026-01-01T00:00:00.000Z';

/** A report whose message and stack lines (each over the 4 KiB line limit) are `line`. */
const reportOf = (line: string, lines: number) => ({
  project_id: 'linear_check',
  environment: 'production',
  level: 'ERROR',
  error: {
    type: 'Error',
    message: line,
    file_path: 'a.ts',
    line_number: 1,
    stack_trace: Array.from({ length: lines }, () => line),
  },
});

// Runs of U+FFFD (3 bytes each) that end in another character: what made the trailing-run
// regex `/\uFFFD+$/` backtrack once per start position. The plain report is the same text
// with another 3-byte character, so both have the same size in bytes and characters: ASCII
// text of that size is cheaper to encode on its own (Node 24's encoder especially), which is
// not what this measures.
const run = `${'\uFFFD'.repeat(1364)}a`;
const crafted = reportOf(run + run, 28);
const plain = reportOf(`${'\u4E2D'.repeat(1364)}a`.repeat(2), 28);

describe('text work is linear in the report', () => {
  it('costs a crafted report within 2x of a plain one of the same size', () => {
    const size = (body: unknown) => Buffer.byteLength(JSON.stringify(body));
    expect(size(crafted)).toBeGreaterThan(220 * KiB);
    expect(Math.abs(size(crafted) - size(plain))).toBeLessThan(KiB);
    const cost = (body: unknown, times: number) => {
      const start = performance.now();
      for (let i = 0; i < times; i++) normaliseReport(body, NOW);
      return performance.now() - start;
    };
    cost(crafted, 10);
    cost(plain, 10); // warm both paths up
    // Interleaved rounds, the best of each: the cost without the pauses (GC, other processes)
    // that land on one round or another. A ratio in one run, not a time budget; before the
    // fix the crafted report cost over 30x the plain one.
    let craftedBest = Number.POSITIVE_INFINITY;
    let plainBest = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 15; round++) {
      craftedBest = Math.min(craftedBest, cost(crafted, 30));
      plainBest = Math.min(plainBest, cost(plain, 30));
    }
    const ratio = craftedBest / plainBest;
    expect(ratio, `crafted/plain cost ratio ${ratio.toFixed(2)}`).toBeLessThan(2);
  });

  it('cuts at a character boundary and keeps a U+FFFD the text really had', () => {
    const outcome = normaliseReport(crafted, NOW);
    if (!outcome.ok) throw new Error('crafted report did not validate');
    const line: string = JSON.parse(outcome.report.stackJson)[0];
    expect(line).toMatch(/ …\[truncated 4090 bytes\]$/);
    const head = line.slice(0, line.indexOf(' …['));
    // 4096 bytes hold 1364 U+FFFD, the 'a' and one more U+FFFD; the next one would need 3 more.
    expect(head).toBe(`${run}\uFFFD`);
    expect(Buffer.byteLength(head)).toBe(4096);
  });

  it.each([
    ['ASCII', 'a'.repeat(20), 10, 'a'.repeat(10)],
    ['a 2-byte character cut in half', `${'a'.repeat(9)}é${'b'.repeat(10)}`, 10, 'a'.repeat(9)],
    ['a 3-byte character cut', `${'a'.repeat(8)}€${'b'.repeat(10)}`, 10, 'a'.repeat(8)],
    ['a surrogate pair cut', `${'a'.repeat(7)}😀${'b'.repeat(10)}`, 10, 'a'.repeat(7)],
    ['a surrogate pair that fits', `${'a'.repeat(6)}😀${'b'.repeat(10)}`, 10, `${'a'.repeat(6)}😀`],
  ])('truncates %s on a character boundary', (_name, text, max, head) => {
    const bytes = Buffer.byteLength(text);
    expect(truncateBytes(text, max)).toBe(`${head} …[truncated ${bytes - max} bytes]`);
  });

  it('leaves text within the limit alone', () => {
    expect(truncateBytes('€'.repeat(10), 30)).toBe('€'.repeat(10));
    expect(truncateBytes(`${'a'.repeat(29)}\uFFFD`, 32)).toBe(`${'a'.repeat(29)}\uFFFD`);
  });
});

describe('invalid_json reasons', () => {
  it('quote only printable ASCII, escaped and cut short', () => {
    const binary = String.fromCharCode(0x1f, 0x8b, 0x08, 0x00, 0xfffd, 0x1b, 0x7f);
    const parsed = parseJsonLenient(binary.repeat(100));
    if (parsed.ok) throw new Error('binary parsed as JSON');
    expect(parsed.reason).toMatch(/^[\x20-\x7e]+$/);
    expect(parsed.reason.length).toBeLessThanOrEqual(170);
    expect(parsed.reason).toContain('\\u001f');
  });

  it('escapes each unit and keeps a short message whole', () => {
    expect(printableReason('bad \u0000 token \u00e9\u{1f600}')).toBe(
      'bad \\u0000 token \\u00e9\\ud83d\\ude00',
    );
    expect(printableReason('x'.repeat(500))).toBe(`${'x'.repeat(160)}...`);
  });
});
