import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { de, deReasons, type MessageKey } from './de.js';
import { en } from './en.js';
import { fill, translateReason } from './translate.js';

export type Lang = 'de' | 'en';
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export interface I18n {
  lang: Lang;
  t: Translate;
  /** An English text from the agent (health reason, schema message) in the page's language. */
  reason: (text: string) => string;
  setLang: (lang: Lang) => void;
}

const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { de, en };

export function makeI18n(lang: Lang, setLang: (lang: Lang) => void): I18n {
  const dict = DICTIONARIES[lang];
  const t: Translate = (key, params) => fill(dict[key] ?? key, params);
  // Modules join several reasons with '; ': each part is translated on its own.
  const reason = (text: string): string => (lang === 'de' ? text.split('; ').map((part) => translateReason(part, deReasons)).join('; ') : text);
  return { lang, t, reason, setLang };
}

export function initialLang(): Lang {
  try {
    const saved = window.localStorage.getItem('praxisbox.lang');
    if (saved === 'de' || saved === 'en') return saved;
  } catch {
    // storage disabled: German
  }
  return 'de';
}

export function saveLang(lang: Lang): void {
  try {
    window.localStorage.setItem('praxisbox.lang', lang);
  } catch {
    // storage disabled: the choice lasts for this page
  }
}

export const I18nContext = createContext<I18n>(makeI18n('de', () => undefined));
export const useI18n = (): I18n => useContext(I18nContext);
