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

/**
 * `{name}` is the value; `{name|unit|units}` is the word for that count, by the language's plural
 * rules (English says "1 unit", "2 units"; Chinese has no plural and needs no such form).
 */
export function t(key: Key, params?: Record<string, string | number>, l: Lang = current): string {
  const s = DICTS[l][key];
  if (!params) return s;
  return s.replace(/\{(\w+)(?:\|([^|}]*)\|([^}]*))?\}/g, (m, k: string, one?: string, other?: string) => {
    if (!(k in params)) return m;
    const v = params[k] as string | number;
    if (one === undefined || other === undefined) return String(v);
    return plurals(l).select(Number(v)) === 'one' ? one : other;
  });
}

const PLURALS = new Map<Lang, Intl.PluralRules>();
function plurals(l: Lang): Intl.PluralRules {
  const p = PLURALS.get(l) ?? new Intl.PluralRules(l);
  PLURALS.set(l, p);
  return p;
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
