import { describe, expect, it } from 'vitest';
import { en } from './en';
import { zh } from './zh';

/** Every key path of a dictionary, with the kind of value (text or function) at its end. */
function shape(value: unknown, path = ''): string[] {
  if (typeof value === 'function') return [`${path}()`];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) => shape(child, path ? `${path}.${key}` : key));
  }
  return [path];
}

describe('dictionaries', () => {
  it('give English and Chinese the same keys, the same functions, and no empty text', () => {
    expect(shape(en).sort()).toEqual(shape(zh).sort());
    const texts = (dict: object) =>
      shape(dict)
        .filter((p) => !p.endsWith('()'))
        .map((p) => p.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], dict));
    expect(texts(zh).filter((t) => typeof t !== 'string' || !t.trim())).toEqual([]);
    expect(texts(en).filter((t) => typeof t !== 'string' || !t.trim())).toEqual([]);
  });

  it('word the review cockpit in both languages', () => {
    expect(zh.review.actions.approve_and_merge).toBe('批准并合并');
    expect(en.review.actions.approve_and_merge).toBe('Approve & merge');
    expect(zh.activity.title).toContain('PR 评论同步');
    expect(zh.messages.button(3)).toContain('3');
    expect(en.messages.button(0)).toBe('Messages');
  });
});
