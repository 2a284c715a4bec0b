import { describe, expect, it } from 'vitest';
import { safeHref, shellQuote } from './url';

describe('safeHref', () => {
  it('allows http and https links only', () => {
    expect(safeHref('https://gitea.example.com/o/r/pulls/45')).toBe('https://gitea.example.com/o/r/pulls/45');
    expect(safeHref('http://ci.local/runs/1')).toBe('http://ci.local/runs/1');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref(' JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,<script>alert(1)</script>')).toBeNull();
    expect(safeHref('/relative/path')).toBeNull();
    expect(safeHref(42)).toBeNull();
  });
});

describe('shellQuote', () => {
  it('survives single quotes in the value', () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
  });
});
