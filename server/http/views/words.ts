/**
 * The catalogue's words (i18n/) as HTML for the server-rendered pages: every word and every value
 * escaped, `<tag>…</tag>` of a message wrapped by the caller's markup (a link, <strong>), so a
 * translation moves a link within its sentence but can never add markup of its own.
 */
import { CATALOGUES, parseMessage, renderTokens, text, type Language, type MessageKey, type ParamArgs, type ParamsOf, type SentenceKey, type TagsOf } from '../../../i18n/index.js';
import { SafeHtml, escapeHtml } from './html.js';

type Value = string | number | SafeHtml;
type Wrap = (inner: SafeHtml) => SafeHtml;
export type HtmlParams<K extends MessageKey> = { readonly [P in ParamsOf<K>]: Value } & { readonly [T in TagsOf<K>]: Wrap };

/** The words of `key` in `language` as escaped HTML. */
export function words<K extends MessageKey>(language: Language, key: K, values: HtmlParams<K>): SafeHtml {
  const lookup = values as unknown as Readonly<Record<string, Value | Wrap>>;
  const parts = renderTokens<string>(parseMessage(CATALOGUES[language][key]), {
    text: (s) => escapeHtml(s),
    param: (name) => {
      const v = lookup[name];
      if (v instanceof SafeHtml) return v.value;
      return escapeHtml(typeof v === 'function' || v === undefined ? `{${name}}` : String(v));
    },
    tag: (name, children) => {
      const wrap = lookup[name];
      const inner = new SafeHtml(children.join(''));
      return typeof wrap === 'function' ? wrap(inner).value : inner.value;
    },
  });
  return new SafeHtml(parts.join(''));
}

/** A fixed sentence (no placeholders, no tags) as escaped HTML. */
export function sentence(language: Language, key: SentenceKey): SafeHtml {
  return new SafeHtml(escapeHtml(CATALOGUES[language][key]));
}

/** Plain words (for a <title> or an attribute; `html` escapes them where they are put). */
export function plain<K extends MessageKey>(language: Language, key: K, ...args: ParamArgs<K, string | number>): string {
  return text(language, key, ...args);
}

/** A wrapper for a `<link>` tag: an <a> to `href`. */
export function linkTo(href: string): Wrap {
  return (inner) => new SafeHtml(`<a href="${escapeHtml(href)}">${inner.value}</a>`);
}

/** A wrapper for a `<strong>` tag. */
export const strong: Wrap = (inner) => new SafeHtml(`<strong>${inner.value}</strong>`);
