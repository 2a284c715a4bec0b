import { describe, expect, it } from 'vitest';
import {
  checkedReport,
  filterSecrets,
  LIMITS,
  linesJson,
  normaliseReport,
  normaliseStack,
  reportSchema,
  stripAnsi,
  truncateBytes,
  withoutSecrets,
} from '../../functions/services/report';
import { cicdReport, deploymentReport, runtimeReport } from '../helpers/payloads';

/**
 * The report route checks a body by hand first (`checkedReport`) and runs reportSchema only
 * for a body the hand check is not sure of, so that reportSchema's issues make every 422. The
 * hand check must therefore never accept what reportSchema refuses, and must give the same
 * output for what both accept. Each base report below is varied field by field over values
 * at and past every limit, of every JSON type; the two verdicts are compared on each variant.
 */
const p = 'fast_check';
const bases: [string, Record<string, unknown>][] = [
  ['runtime', runtimeReport(p)],
  ['cicd', cicdReport(p)],
  ['deployment', deploymentReport(p)],
  ['registration', { ...runtimeReport(p), error: { type: 'ProjectInit', message: 'init' } }],
];

const text = (n: number, ch = 'a') => ch.repeat(n);
const anyType = [null, undefined, true, 0, -1, 1.5, '', 'x', [], ['x'], {}, { a: 1 }];
const top: Record<string, unknown[]> = {
  project_id: [...anyType, 'ok_id', 'a.b-c_d', '-bad', text(64), text(65), 'has space', 'é'],
  environment: [...anyType, text(64), text(65), ' ', '\u0000env'],
  level: [
    ...anyType,
    'error',
    'ERROR',
    ' Fatal ',
    'warn',
    'WARNING',
    'critical',
    'debug',
    'info',
    'ınfo', // dotless i: upper-cases to INFO, but is no level
    'ERRORS',
    '\tinfo\n',
  ],
  source: [...anyType, 'runtime', 'cicd', 'deployment', 'RUNTIME', 'other'],
  timestamp: [
    ...anyType,
    '2026-11-29',
    '2026-11-29T10:00:00Z',
    '2026-11-29t10:00:00z',
    '2026-11-29 10:00:00.123+08:00',
    '2026-13-01',
    '2026-11-29T24:00:00Z',
    ' 2026-11-29T10:00:00 ',
    'yesterday',
  ],
  version: [...anyType, text(128), text(129)],
  commit_hash: [...anyType, 'ABCDEF1', text(128), text(129)],
  repo_url: [...anyType, ' https://git.example/a ', text(2048), text(2049)],
  context: [...anyType, { password: 'x', nested: { token: 'y' } }, [1, 2], { __proto__: 1 }],
  fingerprint: [
    ...anyType,
    ['a', 'b'],
    Array(32).fill('x'),
    Array(33).fill('x'),
    [text(512)],
    [text(513)],
    ['x', 1],
  ],
  extra: [...anyType],
};
const inError: Record<string, unknown[]> = {
  type: [...anyType, 'ProjectInit', text(256), text(257)],
  message: [...anyType, '\u001b[31mred\u001b[0m', text(9000)],
  file_path: [...anyType, text(2048), text(2049)],
  line_number: [
    ...anyType,
    -0,
    42,
    2 ** 31,
    2 ** 53 - 1,
    2 ** 53,
    1e21,
    '42',
    '007',
    '123456789',
    '1234567890',
    '-1',
    '4.2',
    ' 42',
  ],
  stack_trace: [...anyType, 'a\nb', 'a\r\nb\n', ['a', 'b\nc'], ['a', 1], [''], []],
};

function variants(): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [name, base] of bases) {
    out.push([name, base]);
    for (const [field, values] of Object.entries(top)) {
      for (const [i, value] of values.entries())
        out.push([`${name} ${field}#${i}`, { ...base, [field]: value }]);
    }
    for (const [field, values] of Object.entries(inError)) {
      for (const [i, value] of values.entries()) {
        out.push([
          `${name} error.${field}#${i}`,
          { ...base, error: { ...(base.error as object), [field]: value } },
        ]);
      }
    }
    for (const error of anyType) out.push([`${name} error=${JSON.stringify(error)}`, { ...base, error }]);
  }
  for (const body of anyType) out.push([`body ${JSON.stringify(body)}`, body]);
  // As a body arrives: through JSON, so `undefined` fields are absent.
  const parsed = out.map(
    ([name, body]) =>
      [name, body === undefined ? undefined : JSON.parse(JSON.stringify(body))] as [string, unknown],
  );
  // JSON.parse makes `__proto__` an own key holding data; an object literal cannot.
  const text = JSON.stringify(runtimeReport(p));
  for (const inner of ['{"x":1}', '5', 'null', '[1]']) {
    parsed.push([
      `context __proto__ ${inner}`,
      JSON.parse(text.replace('"context":{', `"context":{"__proto__":${inner},"constructor":"c",`)),
    ]);
  }
  return parsed;
}

/** reportSchema's output without the context, which normaliseReport takes from the body itself. */
function schemaOutput(body: unknown) {
  const parsed = reportSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { context: _context, ...rest } = parsed.data;
  return rest;
}

/** The same fields of the hand check's output, absent ones left out as zod leaves them out. */
function checkedOutput(body: unknown) {
  const checked = checkedReport(body);
  if (!checked) return undefined;
  const strip = <T extends object>(value: T) =>
    Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
  return strip({ ...checked, error: strip(checked.error) });
}

describe('checkedReport (the hand check before reportSchema)', () => {
  const corpus = variants();

  it('never accepts a body reportSchema refuses, and agrees on the output of every body it accepts', () => {
    let accepted = 0;
    for (const [name, body] of corpus) {
      const checked = checkedOutput(body);
      if (!checked) continue;
      accepted++;
      expect(schemaOutput(body), name).toEqual(checked);
    }
    // The corpus holds many accepted variants, so the comparison above is not vacuous.
    expect(accepted).toBeGreaterThan(150);
  });

  it('takes every guide report and the common valid variants itself (reportSchema not needed)', () => {
    for (const [name, body] of corpus) {
      const valid = schemaOutput(body) !== undefined;
      const plain = body && typeof body === 'object' && !Array.isArray(body);
      const context = plain ? (body as Record<string, unknown>).context : undefined;
      // The hand check leaves bodies with an unusual context (an array, a `__proto__` key) to zod.
      if (valid && (context == null || Object.getPrototypeOf(context) === Object.prototype)) {
        expect(checkedReport(body), name).toBeDefined();
      }
    }
  });

  it('leaves every refused body to reportSchema, whose per-field errors make the answer', () => {
    let refused = 0;
    for (const [name, body] of corpus) {
      if (schemaOutput(body) !== undefined) continue;
      refused++;
      expect(checkedReport(body), name).toBeUndefined();
      const outcome = normaliseReport(body, '2026-11-29T10:00:00.000Z');
      expect(outcome.ok, name).toBe(false);
      if (!outcome.ok) expect(outcome.errors.length, name).toBeGreaterThan(0);
    }
    expect(refused).toBeGreaterThan(150);
  });
});

describe('normalisation shortcuts', () => {
  it('withoutSecrets equals filterSecrets, and copies only when something is filtered', () => {
    const deep = (n: number): unknown => (n === 0 ? 'leaf' : { level: deep(n - 1) });
    const contexts: Record<string, unknown>[] = [
      {},
      { url: '/a', method: 'GET', nested: { list: [1, { a: 'b' }], n: null } },
      { password: 'x' },
      { nested: [{ api_key: 'k' }] },
      { Authorization: 'Bearer t', ok: 1 },
      { deep: deep(40) },
      { deep: deep(31) },
      JSON.parse('{"__proto__": {"token": "t"}, "a": 1}'),
    ];
    for (const context of contexts) {
      const filtered = withoutSecrets(context);
      expect(JSON.stringify(filtered)).toBe(JSON.stringify(filterSecrets(context)));
      const unchanged = JSON.stringify(filterSecrets(context)) === JSON.stringify(context);
      expect(filtered === context).toBe(unchanged);
    }
  });

  it('normaliseStack splits, cleans and caps lines as before', () => {
    // The earlier form of normaliseStack, kept here as the reference.
    const reference = (stack: string | string[]) =>
      (Array.isArray(stack) ? stack : [stack])
        .flatMap((entry) => entry.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n'))
        .map((line) => truncateBytes(stripAnsi(line.replaceAll('\u0000', '\uFFFD')), LIMITS.stackLineBytes));
    const stacks: (string | string[])[] = [
      'a\nb\r\nc\rd\n',
      ['one', 'two\nthree', '', '\u001b[31mred\u001b[0m', 'nul\u0000here', `${'é'.repeat(3000)}`],
      [`\u0000${'x'.repeat(5000)}`],
    ];
    for (const stack of stacks) expect(normaliseStack(stack)).toEqual(reference(stack));
    const many = Array.from({ length: 250 }, (_, i) => `line ${i}`);
    const kept = normaliseStack(many);
    expect(kept).toHaveLength(200);
    expect(kept[100]).toBe('…[truncated 51 lines]…');
  });
});

describe('linesJson', () => {
  it('is JSON.stringify of the lines, short or long, plain or hostile', () => {
    const cases: string[][] = [
      [],
      ['one'],
      ['a', 'b'],
      Array.from(
        { length: 190 },
        (_, i) => `  File "app/views.py", line ${i}, in handler ${'x'.repeat(1000)}`,
      ),
      [`${'"\\\n\t\u0000\u001f\u2028\ud800'.repeat(2000)}`],
      Array.from({ length: 3 }, () => 'é'.repeat(5000)),
    ];
    for (const lines of cases) expect(linesJson(lines)).toBe(JSON.stringify(lines));
  });
});
