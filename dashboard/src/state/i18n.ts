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

/** Chinese first: the team that reads this board reads Chinese. English is one click away. */
export function createI18n(storage: Storage) {
  const lang = signal<Lang>('zh');
  const dictionary = signal<Messages>(zh);
  const t = computed(() => dictionary.value);
  const locale = computed(() => locales[lang.value]);

  async function setLang(next: Lang) {
    const messages = await loaders[next]();
    storage.setItem(LANG_KEY, next);
    // Both change together, so no screen mixes one language's words with the other's dates.
    dictionary.value = messages;
    lang.value = next;
  }

  const stored = storage.getItem(LANG_KEY);
  /** Settles once the stored language is ready, so the first paint is already in it. */
  const ready = stored === 'en' ? setLang('en').catch(() => {}) : Promise.resolve();

  return { lang, t, locale, setLang, ready };
}

export type I18n = ReturnType<typeof createI18n>;
