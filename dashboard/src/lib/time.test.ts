import { describe, expect, it } from 'vitest';
import { formatDuration, relativeTime } from './time';

const now = Date.parse('2026-02-25T14:30:00Z');
const units = { s: 's', min: 'min', h: 'h', d: 'd' };

describe('relativeTime', () => {
  it('says how long ago in the chosen language', () => {
    expect(relativeTime('2026-02-25T12:30:00Z', now, 'en')).toBe('2 hours ago');
    expect(relativeTime('2026-02-25T12:30:00Z', now, 'zh-CN')).toBe('2小时前');
    expect(relativeTime('2026-02-25T14:00:00Z', now, 'en')).toBe('30 minutes ago');
    expect(relativeTime('2026-02-25T14:29:50Z', now, 'en')).toBe('now');
    expect(relativeTime('2026-02-22T14:30:00Z', now, 'en')).toBe('3 days ago');
  });

  it('shows a timestamp it cannot read as it is', () => {
    expect(relativeTime('yesterday-ish', now, 'en')).toBe('yesterday-ish');
  });
});

describe('formatDuration', () => {
  it('uses the largest one or two units', () => {
    expect(formatDuration(42, units)).toBe('42 s');
    expect(formatDuration(720, units)).toBe('12 min');
    expect(formatDuration(3 * 3600 + 300, units)).toBe('3 h 5 min');
    expect(formatDuration(2 * 86400 + 4 * 3600, units)).toBe('2 d 4 h');
  });
});
