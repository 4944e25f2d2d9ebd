/**
 * The languages pages and mails are written in. English now; a language is added by adding its
 * code here and its row to every table of words (the compiler then names each missing one).
 */
export const LANGUAGES = ['en'] as const;
export type Language = (typeof LANGUAGES)[number];

export const DEFAULT_LANGUAGE: Language = 'en';

/** The page language from `<html lang>` (or any BCP 47 tag); the default when it is not ours. */
export function languageOf(tag: string | null | undefined): Language {
  const primary = (tag ?? '').trim().toLowerCase().split('-')[0] ?? '';
  return LANGUAGES.find((l) => l === primary) ?? DEFAULT_LANGUAGE;
}
