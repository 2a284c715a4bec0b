import { computed, signal } from '@preact/signals';
import { type Messages, zh } from '../i18n/zh';

export const LANGS = ['zh', 'en'] as const;
export type Lang = (typeof LANGS)[number];
const LANG_KEY = 'log-center.lang';

const locales: Record<Lang, string> = { zh: 'zh-CN', en: 'en' };

// English is fetched when first chosen, which keeps it out of the initial bundle.
const loaders: Record<Lang, () => Promise<Messages>> = {
  zh: async () => zh,
  en: async () => (await import('../i18n/en')).en,
};

/** The browser's choice on a first visit: any Chinese in its list means Chinese, else English. */
export const langFromBrowser = (languages: readonly string[]): Lang =>
  languages.some((tag) => /^zh/i.test(tag)) ? 'zh' : 'en';

/**
 * The language the visitor chose with the toggle wins; until they choose, the browser's
 * languages decide, so a newcomer whose browser reads English is not met with Chinese.
 */
export function createI18n(storage: Storage, languages: readonly string[]) {
  const lang = signal<Lang>('zh');
  const dictionary = signal<Messages>(zh);
  const t = computed(() => dictionary.value);
  const locale = computed(() => locales[lang.value]);

  async function load(next: Lang) {
    const messages = await loaders[next]();
    // Both change together, so no screen mixes one language's words with the other's dates.
    dictionary.value = messages;
    lang.value = next;
  }

  /** The toggle: remembered, so the next visit opens in it whatever the browser says. */
  async function setLang(next: Lang) {
    await load(next);
    storage.setItem(LANG_KEY, next);
  }

  const stored = storage.getItem(LANG_KEY);
  const first = stored === 'zh' || stored === 'en' ? stored : langFromBrowser(languages);
  /** Settles once the first language is ready, so the first paint is already in it. */
  const ready = first === 'en' ? load('en').catch(() => {}) : Promise.resolve();

  return { lang, t, locale, setLang, ready };
}

export type I18n = ReturnType<typeof createI18n>;
