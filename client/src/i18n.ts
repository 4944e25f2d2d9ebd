// The page's language and its words. Runs first on every page (common.ts imports it before
// anything draws): picks the language (the switch's choice in the gw_lang cookie, else the
// browser's preferences, else English), sets <html lang>, and fills every element of the HTML
// that names a catalogue key:
//
//   <h1 data-i18n="keys.heading"></h1>                      the element's text
//   <p data-i18n="signin.activateHint"><a data-slot="link" href="/activate.html"></a></p>
//                                                            <link>…</link> words go into the slot
//   <p data-i18n="enrol.holder"><strong data-slot="name" id="holder-name"></strong>…</p>
//                                                            {name} is the slot element itself
//   <pre data-i18n-aria-label="admin.import.exampleLabel">   an attribute (aria-label, title,
//                                                            placeholder, value)
//
// Until then the page is not shown (html.i18n-pending in style.css), so nobody sees it half
// translated. Every word comes from i18n/<language>/ (test/unit/i18n-literals.test.ts checks
// that no page or script carries words of its own).
import {
  CATALOGUES,
  formatPlain,
  LANGUAGE_COOKIE,
  LANGUAGE_COOKIE_MAX_AGE_S,
  LANGUAGE_PARAM,
  isLanguage,
  languageFromCookieHeader,
  negotiateLanguage,
  parseMessage,
  pluralKey,
  renderTokens,
  text,
  type Language,
  type MessageKey,
  type ParamArgs,
  type ParamsOf,
  type PluralBase,
  type PluralKey,
  type TagsOf,
} from '../../i18n/index.js';

/** True when this page load came from a switch link (`?lang=`): a choice the server keeps for a signed-in person. */
let chosenByLink = false;

/** The language chosen for this page load. */
function chooseLanguage(): Language {
  const url = new URL(window.location.href);
  const asked = url.searchParams.get(LANGUAGE_PARAM);
  if (isLanguage(asked)) {
    chosenByLink = true;
    // A switch link (or a server page's switch): remember the choice, and keep the address clean.
    rememberLanguage(asked);
    url.searchParams.delete(LANGUAGE_PARAM);
    history.replaceState(history.state, '', url);
    return asked;
  }
  return languageFromCookieHeader(document.cookie) ?? negotiateLanguage(navigator.languages ?? [navigator.language]);
}

/** Keeps the person's choice for a year; the server-rendered pages read the same cookie. */
function rememberLanguage(language: Language): void {
  const secure = window.location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${LANGUAGE_COOKIE}=${language}; Path=/; Max-Age=${LANGUAGE_COOKIE_MAX_AGE_S}; SameSite=Lax${secure}`;
}

const language: Language = chooseLanguage();
document.documentElement.lang = language;

/** The language of this page. */
export function pageLanguage(): Language {
  return language;
}

/** Whether the person chose this page's language with a switch link on the way here (issue 16). */
export function languageChosenByLink(): boolean {
  return chosenByLink;
}

/** The words of `key` in the page language, placeholders filled. */
export function t<K extends MessageKey>(key: K, ...args: ParamArgs<K, string | number>): string {
  return text(language, key, ...args);
}

/** The words of a key chosen at run time (the words for a code), with no placeholders to fill. */
export function tKey(key: MessageKey): string {
  return formatPlain(CATALOGUES[language][key]);
}

/** A counted message (`base.one` / `base.other`): `{count}` is filled with `count`. */
export function tp<B extends PluralBase>(base: B, count: number, params: Readonly<Record<string, string | number>> = {}): string {
  const key: PluralKey<B> = pluralKey(language, base, count);
  return formatPlain(CATALOGUES[language][key], { count, ...params });
}

type NodeValue = string | number | Node;
type TagFn = (children: Node[]) => Node;
/** What `tn` needs for a key: a value for each {placeholder}, a wrapper for each <tag>. */
export type NodeParams<K extends MessageKey> = { readonly [P in ParamsOf<K>]: NodeValue } & { readonly [T in TagsOf<K>]: TagFn };

/** The words of `key` as DOM nodes: placeholders may be elements, tags wrap words in elements. */
export function tn<K extends MessageKey>(key: K, values: NodeParams<K>): Node[] {
  const lookup = values as unknown as Readonly<Record<string, NodeValue | TagFn>>;
  return renderTokens<Node>(parseMessage(CATALOGUES[language][key]), {
    text: (s) => document.createTextNode(s),
    param: (name) => {
      const v = lookup[name];
      if (v instanceof Node) return v;
      return document.createTextNode(typeof v === 'function' || v === undefined ? `{${name}}` : String(v));
    },
    tag: (name, children) => {
      const wrap = lookup[name];
      if (typeof wrap === 'function') return wrap(children);
      const span = document.createElement('span');
      span.append(...children);
      return span;
    },
  });
}

// ------------------------------------------------------------- tag makers

/** A <tag> wrapper making an element (e.g. strong) around the words. */
export function wrapIn<K extends keyof HTMLElementTagNameMap>(tag: K, setUp?: (el: HTMLElementTagNameMap[K]) => void): TagFn {
  return (children) => {
    const el = document.createElement(tag);
    el.append(...children);
    setUp?.(el);
    return el;
  };
}

/** A <tag> wrapper making a link. */
export function linkTo(href: string, testid?: string): TagFn {
  return wrapIn('a', (a) => {
    a.href = href;
    if (testid) a.dataset['testid'] = testid;
  });
}

/**
 * Words from the server (its summaries, results and reasons are English until the server speaks
 * the page language): marked as English, so a screen reader reads them as English, and as the
 * server's (the catalogue check of the browser tests leaves them out).
 */
export function fromServer(words: string): Node {
  const span = document.createElement('span');
  span.lang = 'en';
  span.className = 'server-text';
  span.textContent = words;
  return span;
}

// ----------------------------------------------------------- static HTML

const ATTRIBUTES = ['aria-label', 'title', 'placeholder', 'value'] as const;

function lookUp(key: string | undefined): string | undefined {
  if (!key) return undefined;
  const catalogue: Readonly<Record<string, string>> = CATALOGUES[language];
  return catalogue[key];
}

/** Fills every data-i18n element and data-i18n-* attribute under `root` from the catalogue. */
export function translate(root: ParentNode): void {
  for (const el of Array.from(root.querySelectorAll<HTMLElement>('[data-i18n]'))) {
    const key = el.dataset['i18n'];
    const words = lookUp(key);
    if (words === undefined) {
      el.textContent = `[${key}]`;
      continue;
    }
    const slots = new Map<string, HTMLElement>();
    for (const child of Array.from(el.querySelectorAll<HTMLElement>(':scope > [data-slot], :scope > * > [data-slot]'))) {
      if (child.dataset['slot']) slots.set(child.dataset['slot'], child);
    }
    const nodes = renderTokens<Node>(parseMessage(words), {
      text: (s) => document.createTextNode(s),
      param: (name) => slots.get(name) ?? document.createTextNode(`{${name}}`),
      tag: (name, children) => {
        const slot = slots.get(name) ?? document.createElement('span');
        slot.replaceChildren(...children);
        return slot;
      },
    });
    el.replaceChildren(...nodes);
  }
  for (const attribute of ATTRIBUTES) {
    const data = `data-i18n-${attribute}`;
    for (const el of Array.from(root.querySelectorAll<HTMLElement>(`[${data}]`))) {
      const key = el.getAttribute(data) ?? undefined;
      el.setAttribute(attribute, lookUp(key) ?? `[${key}]`);
    }
  }
}

translate(document);
document.documentElement.classList.remove('i18n-pending');

// ------------------------------------------------------------ the switch

const beforeSwitch: Array<(url: URL) => void> = [];

/** Lets a page keep what the reload would lose (the enrolment page puts its link's token back). */
export function beforeLanguageSwitch(hook: (url: URL) => void): void {
  beforeSwitch.push(hook);
}

/** The other language(s) than the page's, for the switch. */
export function otherLanguages(): Language[] {
  return (Object.keys(CATALOGUES) as Language[]).filter((l) => l !== language);
}

/** Remembers `to` and shows this page again in it (a reload: every word and date is redrawn). */
export function switchLanguage(to: Language): void {
  rememberLanguage(to);
  const url = new URL(window.location.href);
  url.searchParams.delete(LANGUAGE_PARAM);
  for (const hook of beforeSwitch) hook(url);
  history.replaceState(history.state, '', url);
  window.location.reload();
}

/** The address of this page in `to` (what the switch links to, e.g. for "open in a new tab"). */
export function addressIn(to: Language): string {
  const url = new URL(window.location.href);
  url.searchParams.set(LANGUAGE_PARAM, to);
  url.hash = '';
  return url.pathname + url.search;
}
