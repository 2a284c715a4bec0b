import { beforeEach, describe, expect, it } from 'vitest';
import { createI18n, langFromBrowser } from './i18n';

describe('langFromBrowser', () => {
  it('reads Chinese from any zh tag in the list, English otherwise', () => {
    expect(langFromBrowser(['zh-CN'])).toBe('zh');
    expect(langFromBrowser(['en-US', 'zh-TW'])).toBe('zh');
    expect(langFromBrowser(['ZH'])).toBe('zh');
    expect(langFromBrowser(['en-US', 'en'])).toBe('en');
    expect(langFromBrowser(['de-DE'])).toBe('en');
    expect(langFromBrowser([])).toBe('en');
  });
});

describe('createI18n', () => {
  beforeEach(() => localStorage.clear());

  it('opens in English for an English browser on a first visit', async () => {
    const i18n = createI18n(localStorage, ['en-US', 'en']);
    await i18n.ready;
    expect(i18n.lang.value).toBe('en');
    expect(i18n.locale.value).toBe('en');
    // Following the browser is not a choice: nothing is remembered until the toggle is used.
    expect(localStorage.getItem('log-center.lang')).toBeNull();
  });

  it('opens in Chinese for a Chinese browser on a first visit', async () => {
    const i18n = createI18n(localStorage, ['zh-CN', 'en']);
    await i18n.ready;
    expect(i18n.lang.value).toBe('zh');
    expect(i18n.locale.value).toBe('zh-CN');
  });

  it('lets a remembered toggle win over the browser', async () => {
    await createI18n(localStorage, ['en-US']).setLang('zh');
    const next = createI18n(localStorage, ['en-US']);
    await next.ready;
    expect(next.lang.value).toBe('zh');

    await next.setLang('en');
    const third = createI18n(localStorage, ['zh-CN']);
    await third.ready;
    expect(third.lang.value).toBe('en');
  });

  it('ignores a stored value it does not know', async () => {
    localStorage.setItem('log-center.lang', 'fr');
    const i18n = createI18n(localStorage, ['zh-HK']);
    await i18n.ready;
    expect(i18n.lang.value).toBe('zh');
  });
});
