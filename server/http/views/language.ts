/**
 * The language of a page the server renders (error pages, the sign-out confirmation, the
 * form_post page), by the same rule as the client's pages (i18n/languages.ts): the language switch
 * (`?lang=da`, which also sets the gw_lang cookie), else the cookie the switch set on any page,
 * else the browser's Accept-Language, else English.
 */
import type { Request, Response } from 'express';
import {
  LANGUAGES,
  LANGUAGE_COOKIE,
  LANGUAGE_COOKIE_MAX_AGE_S,
  LANGUAGE_PARAM,
  isLanguage,
  languageFromCookieHeader,
  negotiateLanguage,
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
export function pageLanguageOf(req: Request, res?: Response, sameRequest = true): PageLanguage {
  const asked = req.query[LANGUAGE_PARAM];
  let language: Language;
  if (isLanguage(asked)) {
    language = asked;
    // A preference, not a secret: readable by the pages' script, which sets it the same way.
    res?.append('Set-Cookie', `${LANGUAGE_COOKIE}=${language}; Path=/; Max-Age=${LANGUAGE_COOKIE_MAX_AGE_S}; SameSite=Lax${req.secure ? '; Secure' : ''}`);
  } else {
    language = languageFromCookieHeader(req.headers.cookie) ?? negotiateLanguage(parseAcceptLanguage(req.headers['accept-language']));
  }
  return { language, switchTo: LANGUAGES.filter((l) => l !== language).map((l) => ({ language: l, href: addressIn(req, l, sameRequest) })) };
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
