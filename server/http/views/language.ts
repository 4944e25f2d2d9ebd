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

/** The page language of `req`; a switch's choice is remembered on `res` (the gw_lang cookie). */
export function pageLanguageOf(req: Request, res?: Response): PageLanguage {
  const asked = req.query[LANGUAGE_PARAM];
  let language: Language;
  if (isLanguage(asked)) {
    language = asked;
    // A preference, not a secret: readable by the pages' script, which sets it the same way.
    res?.append('Set-Cookie', `${LANGUAGE_COOKIE}=${language}; Path=/; Max-Age=${LANGUAGE_COOKIE_MAX_AGE_S}; SameSite=Lax${req.secure ? '; Secure' : ''}`);
  } else {
    language = languageFromCookieHeader(req.headers.cookie) ?? negotiateLanguage(parseAcceptLanguage(req.headers['accept-language']));
  }
  return { language, switchTo: LANGUAGES.filter((l) => l !== language).map((l) => ({ language: l, href: addressIn(req, l) })) };
}

/**
 * This page's address with `lang` set: the same request again for a GET; for a form that was
 * posted, the page's path (a browser cannot be sent to repeat a POST by a link).
 */
function addressIn(req: Request, language: Language): string {
  const url = new URL(req.originalUrl, 'http://page.invalid');
  if (req.method !== 'GET' && req.method !== 'HEAD') url.search = '';
  url.searchParams.set(LANGUAGE_PARAM, language);
  return `${url.pathname}${url.search}`;
}
