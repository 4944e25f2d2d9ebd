/**
 * The languages pages (and, later, mails) are written in: Danish and English. A language is added
 * by adding its code here, its date locale (dates.ts) and its catalogue (a folder like en/ and
 * da/, typed against the English one, so the compiler names every missing message).
 *
 * Which language a page uses: the person's own choice (the language switch on every page, kept
 * in the `gw_lang` cookie that the server-rendered pages read too), else the first language of
 * the browser's preferences (navigator.languages, Accept-Language) that we have, else English.
 */
export const LANGUAGES = ['da', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** When the browser prefers none of ours (and for the mails, until a person has a language). */
export const DEFAULT_LANGUAGE: Language = 'en';

/** The cookie that remembers the language a person chose with the switch (a preference, not a secret). */
export const LANGUAGE_COOKIE = 'gw_lang';
/** How long the choice is remembered: a year. */
export const LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600;
/** The query parameter the language switch links carry (`?lang=da`): it sets the cookie. */
export const LANGUAGE_PARAM = 'lang';

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The language of a BCP 47 tag ("da-DK" is Danish), or undefined when it is not one of ours. */
export function languageOfTag(tag: string | null | undefined): Language | undefined {
  const primary = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return LANGUAGES.find((l) => l === primary);
}

/** The page language from `<html lang>` (or any BCP 47 tag); the default when it is not ours. */
export function languageOf(tag: string | null | undefined): Language {
  return languageOfTag(tag) ?? DEFAULT_LANGUAGE;
}

/** The first of the browser's preferred languages (best first) that we have; else the default. */
export function negotiateLanguage(preferences: readonly string[]): Language {
  for (const tag of preferences) {
    const language = languageOfTag(tag);
    if (language) return language;
  }
  return DEFAULT_LANGUAGE;
}

/** RFC 9110 §12.5.4 Accept-Language, best first (q=0 means "not this one"); malformed parts are skipped. */
export function parseAcceptLanguage(header: string | null | undefined): string[] {
  if (!header) return [];
  const ranges: Array<{ tag: string; q: number; at: number }> = [];
  header.split(',').forEach((part, at) => {
    const [tag = '', ...params] = part.trim().split(';');
    if (!/^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$/.test(tag.trim())) return;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](\.\d{0,3})?)\s*$/.exec(p);
      if (m?.[1]) q = Number(m[1]);
    }
    if (q > 0) ranges.push({ tag: tag.trim(), q, at });
  });
  return ranges.sort((a, b) => b.q - a.q || a.at - b.at).map((r) => r.tag);
}

/** The language kept in a Cookie header (the switch's choice), if any. */
export function languageFromCookieHeader(header: string | null | undefined): Language | undefined {
  for (const pair of (header ?? '').split(';')) {
    const [name, value] = pair.split('=').map((s) => s.trim());
    if (name === LANGUAGE_COOKIE && isLanguage(value)) return value;
  }
  return undefined;
}
