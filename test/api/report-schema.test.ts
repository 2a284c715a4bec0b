import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app';
import type { Deps } from '../../functions/env';
import { reportSchema } from '../../functions/services/report';
import { cicdReport, deploymentReport, runtimeReport } from '../helpers/payloads';

/**
 * The report body has one definition (functions/services/report.ts). It validates every
 * report, and the OpenAPI document's `Report` schema is generated from it; the runtime-frame
 * rule, which JSON Schema states with if/then, sits beside it. One corpus, both verdicts.
 */
const p = 'schema_corpus';
const runtime = runtimeReport(p);
const withError = (error: Record<string, unknown>) => ({ ...runtime, error: { ...runtime.error, ...error } });

const valid: [string, unknown][] = [
  ['guide runtime report', runtime],
  ['guide CI report', cicdReport(p)],
  ['guide deployment report', deploymentReport(p)],
  ['level in lower case', { ...runtime, level: 'error' }],
  ['level alias WARN', { ...runtime, level: 'warn' }],
  ['level alias FATAL with blanks', { ...runtime, level: ' Fatal ' }],
  ['stack as one string', withError({ stack_trace: 'a\nb' })],
  ['line number as a numeric string', withError({ line_number: '42' })],
  ['registration report without a frame', { ...runtime, error: { type: 'ProjectInit', message: 'init' } }],
  ['timestamp with offset', { ...runtime, timestamp: '2026-11-29T10:00:00+08:00' }],
  ['timestamp without offset', { ...runtime, timestamp: '2026-11-29T10:00:00.123' }],
  ['date only', { ...runtime, timestamp: '2026-11-29' }],
  ['null optional fields', { ...runtime, version: null, commit_hash: null, timestamp: null, context: null }],
  ['fingerprint override', { ...runtime, fingerprint: ['a', 'b'] }],
  ['CI report with null frame', cicdReport(p, { error: { type: 'X', message: 'm', file_path: null } })],
  ['unknown extra fields', { ...runtime, extra_field: 1 }],
  ['hostile strings', withError({ message: "<script>alert(1)</script>' OR 1=1; -- \u202e" })],
];

const invalid: [string, unknown][] = [
  ['not an object', 'report'],
  ['array', [runtime]],
  ['missing project_id', { ...runtime, project_id: undefined }],
  ['project id with a slash', { ...runtime, project_id: 'a/b' }],
  ['project id too long', { ...runtime, project_id: 'a'.repeat(65) }],
  ['empty environment', { ...runtime, environment: '' }],
  ['environment over 64', { ...runtime, environment: 'e'.repeat(65) }],
  ['unknown level', { ...runtime, level: 'LOUD' }],
  ['level as number', { ...runtime, level: 3 }],
  ['unknown source', { ...runtime, source: 'cron' }],
  ['timestamp not a date', { ...runtime, timestamp: 'yesterday' }],
  ['timestamp month 13', { ...runtime, timestamp: '2026-13-01T00:00:00Z' }],
  ['version over 128', { ...runtime, version: 'v'.repeat(129) }],
  ['error missing', { ...runtime, error: undefined }],
  ['empty error type', withError({ type: '' })],
  ['message missing', withError({ message: undefined })],
  ['negative line number', withError({ line_number: -1 })],
  ['fractional line number', withError({ line_number: 1.5 })],
  ['line number words', withError({ line_number: 'forty-two' })],
  ['runtime without file_path', withError({ file_path: null })],
  ['runtime without line_number', withError({ line_number: undefined })],
  ['runtime without stack_trace', withError({ stack_trace: null })],
  ['explicit runtime without frame', { ...runtime, source: 'runtime', error: { type: 'E', message: 'm' } }],
  ['stack of numbers', withError({ stack_trace: [1, 2] })],
  ['context as array', { ...runtime, context: [1] }],
  ['context as string', { ...runtime, context: 'x' }],
  ['empty fingerprint', { ...runtime, fingerprint: [] }],
  ['fingerprint of 33 parts', { ...runtime, fingerprint: Array(33).fill('x') }],
  ['fingerprint part over 512', { ...runtime, fingerprint: ['x'.repeat(513)] }],
];

let compiled: ReturnType<typeof compileDocumented> | undefined;
const documentedSchema = () => {
  compiled ??= compileDocumented();
  return compiled;
};

async function compileDocumented() {
  const app = createApp(() => ({}) as Deps);
  const doc = (await (await app.request('/openapi.json')).json()) as {
    components: { schemas: Record<string, object> };
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile(doc.components.schemas.Report!);
}

describe('report schema: validator and OpenAPI document agree', () => {
  it.each(valid)('accepts: %s', async (_name, body) => {
    const documented = await documentedSchema();
    const plain = JSON.parse(JSON.stringify(body));
    expect(reportSchema.safeParse(plain).success).toBe(true);
    expect(documented(plain), JSON.stringify(documented.errors)).toBe(true);
  });

  it.each(invalid)('refuses: %s', async (_name, body) => {
    const documented = await documentedSchema();
    const plain = JSON.parse(JSON.stringify(body));
    expect(reportSchema.safeParse(plain).success).toBe(false);
    expect(documented(plain)).toBe(false);
  });
});
