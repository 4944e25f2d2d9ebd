/**
 * The language of a page the server renders (error pages, the sign-out confirmation, the
 * form_post page), by the same rule as the client's pages (i18n/languages.ts): the language switch
 * (`?lang=da`, which also sets the gw_lang cookie), else the cookie the switch set on any page,
 * else the browser's Accept-Language, else English. Error pages and problem+json answers
 * (requestLanguage) fall back on the signed-in person's stored language, then the organisation's.
 */
import type { Request, Response } from 'express';
import {
  LANGUAGES,
  LANGUAGE_COOKIE,
  LANGUAGE_COOKIE_MAX_AGE_S,
  LANGUAGE_PARAM,
  DEFAULT_LANGUAGE,
  isLanguage,
  languageFromCookieHeader,
  languageOfTag,
  parseAcceptLanguage,
  type Language,
} from '../../../i18n/index.js';

export interface PageLanguage {
  language: Language;
  /** Where the switch to each other language leads: this page again, in that language. */
  switchTo: Array<{ language: Language; href: string }>;
}

/**
 * The page language of `req`; a switch's choice is remembered on `res` (the gw_lang cookie).
 * `sameRequest`: the switch asks for this page again with its query (the sign-out confirmation,
 * the form_post page); otherwise (an error page) it leads to the same path, and nothing of the
 * failed request is echoed in the page.
 */
export function pageLanguageOf(req: Request, res?: Response, sameRequest = true, fallback: Language = DEFAULT_LANGUAGE): PageLanguage {
  const asked = req.query[LANGUAGE_PARAM];
  let language: Language;
  if (isLanguage(asked)) {
    language = asked;
    // A preference, not a secret: readable by the pages' script, which sets it the same way.
    res?.append('Set-Cookie', `${LANGUAGE_COOKIE}=${language}; Path=/; Max-Age=${LANGUAGE_COOKIE_MAX_AGE_S}; SameSite=Lax${req.secure ? '; Secure' : ''}`);
  } else {
    language = requestLanguage(req, fallback);
  }
  return { language, switchTo: LANGUAGES.filter((l) => l !== language).map((l) => ({ language: l, href: addressIn(req, l, sameRequest) })) };
}

/**
 * The language of an answer to `req` (issue 16): the gw_lang cookie the switch set, else the
 * first of the browser's Accept-Language preferences that we have, else `fallback` (the
 * signed-in person's stored language, else the organisation's, GATEWAY_DEFAULT_LANGUAGE).
 */
export function requestLanguage(req: Request, fallback: Language): Language {
  const chosen = languageFromCookieHeader(req.headers.cookie);
  if (chosen) return chosen;
  for (const tag of parseAcceptLanguage(req.headers['accept-language'])) {
    const language = languageOfTag(tag);
    if (language) return language;
  }
  return fallback;
}

/**
 * The language of the page a request came from, when it says one (issue 16: adopted as the
 * person's at enrolment and activation): the switch's cookie (a choice), else the browser's
 * Accept-Language (a preference); undefined when neither names one of ours.
 */
export function pageLanguageChoice(req: Request): { language: Language; chosen: boolean } | undefined {
  const chosen = languageFromCookieHeader(req.headers.cookie);
  if (chosen) return { language: chosen, chosen: true };
  for (const tag of parseAcceptLanguage(req.headers['accept-language'])) {
    const language = languageOfTag(tag);
    if (language) return { language, chosen: false };
  }
  return undefined;
}

/** The stored language of the person signed in on this request (app.ts resolves the session), if any. */
export function personLanguageOf(res: Response): Language | undefined {
  const view: unknown = res.locals['session'];
  if (typeof view !== 'object' || view === null || !('identity' in view)) return undefined;
  const identity: unknown = view.identity;
  if (typeof identity !== 'object' || identity === null || !('language' in identity)) return undefined;
  return isLanguage(identity.language) ? identity.language : undefined;
}

/**
 * This page's address with `lang` set, on this origin: the same request again for a GET when
 * `sameRequest` (an id_token_hint left out: a token is not put in a page); else, and for a form
 * that was posted (a link cannot repeat a POST), the page's path.
 */
function addressIn(req: Request, language: Language, sameRequest: boolean): string {
  const url = new URL(req.originalUrl, 'http://page.invalid');
  if (!sameRequest || (req.method !== 'GET' && req.method !== 'HEAD')) url.search = '';
  url.searchParams.delete('id_token_hint');
  url.searchParams.set(LANGUAGE_PARAM, language);
  // One leading slash: never a scheme-relative address to another host.
  return `/${url.pathname.replace(/^\/+/, '')}${url.search}`;
}
