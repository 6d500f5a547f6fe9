import { EN, type Key, ZH } from './strings.ts';

/**
 * The page's one way to a label: every string the views show comes through `t`, from a dictionary
 * per language whose keys are checked at compile time (a key missing in Chinese does not build).
 * The choice is remembered in this browser.
 */
export type Lang = 'en' | 'zh-CN';
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

const DICTS: Record<Lang, Record<Key, string>> = { en: EN, 'zh-CN': ZH };
const STORE_KEY = 'shouwang.lang';

function initial(): Lang {
  const saved = localStorage.getItem(STORE_KEY);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

let current: Lang = initial();
const listeners = new Set<() => void>();

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  if (l === current) return;
  current = l;
  localStorage.setItem(STORE_KEY, l);
  document.documentElement.lang = l;
  for (const f of listeners) f();
}

export function onLangChange(f: () => void): void {
  listeners.add(f);
}

export function t(key: Key, params?: Record<string, string | number>, l: Lang = current): string {
  const s = DICTS[l][key];
  return params ? s.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m)) : s;
}

/** Static markup names its labels as data-i18n (text), data-i18n-placeholder, data-i18n-aria (aria-label), data-i18n-title. */
export function translateStatic(root: ParentNode): void {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset.i18n as Key);
  for (const el of root.querySelectorAll<HTMLInputElement>('[data-i18n-placeholder]'))
    el.placeholder = t(el.dataset.i18nPlaceholder as Key);
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria as Key));
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle as Key);
}
