/**
 * The catalogues: every word a page shows, one module per language (en/, da/), with typed keys.
 * English is the source of the keys and of each message's placeholders; every other language is
 * typed as a Translation of it, so a missing or extra key is a compile error, and
 * test/unit/i18n-catalogue.test.ts checks the placeholders, tags and plural forms match.
 */
import { da } from './da/index.js';
import { en } from './en/index.js';
import { formatPlain, type PlaceholderNames, type TagNames } from './format.js';
import type { Language } from './languages.js';

export type English = typeof en;
export type MessageKey = keyof English & string;
export type Catalogue = { readonly [K in MessageKey]: string };

/** A translation of one English area module: the same keys, each language's own words. */
export type Translation<T> = { readonly [K in keyof T]: string };

export const CATALOGUES: Readonly<Record<Language, Catalogue>> = { en, da };

export type ParamsOf<K extends MessageKey> = PlaceholderNames<English[K]>;
export type TagsOf<K extends MessageKey> = TagNames<English[K]>;

/** The arguments after the key: none for a message without placeholders, else a value for each. */
export type ParamArgs<K extends MessageKey, V> = [ParamsOf<K>] extends [never] ? [] : [params: Readonly<Record<ParamsOf<K>, V>>];

/** Keys whose message has neither placeholders nor tags: a fixed sentence. */
export type SentenceKey = { [K in MessageKey]: [ParamsOf<K> | TagsOf<K>] extends [never] ? K : never }[MessageKey];

/** Counted messages: `x.one` and `x.other` (Danish and English have these two plural forms). */
export type PluralBase = { [K in MessageKey]: K extends `${infer B}.one` ? (`${B}.other` extends MessageKey ? B : never) : never }[MessageKey];
export type PluralKey<B extends PluralBase> = `${B}.one` | `${B}.other`;

/** The message of `key` in `language`, unformatted. */
export function message(language: Language, key: MessageKey): string {
  return CATALOGUES[language][key];
}

/** Plain text of a message in `language`, placeholders filled (tags keep only their words). */
export function text<K extends MessageKey>(language: Language, key: K, ...args: ParamArgs<K, string | number>): string {
  return formatPlain(message(language, key), args[0] ?? {});
}

const pluralRules = new Map<Language, Intl.PluralRules>();

/** The form of a counted message for `count` in `language` (CLDR plural rules). */
export function pluralKey<B extends PluralBase>(language: Language, base: B, count: number): PluralKey<B> {
  let rules = pluralRules.get(language);
  if (!rules) {
    rules = new Intl.PluralRules(language);
    pluralRules.set(language, rules);
  }
  return rules.select(count) === 'one' ? `${base}.one` : `${base}.other`;
}
