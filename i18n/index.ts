/** Words and formats shared by the pages (client/) and the server (its pages, and later its mails): one source for both. */
export {
  DEFAULT_LANGUAGE,
  LANGUAGES,
  LANGUAGE_COOKIE,
  LANGUAGE_COOKIE_MAX_AGE_S,
  LANGUAGE_PARAM,
  isLanguage,
  languageFromCookieHeader,
  languageOf,
  languageOfTag,
  negotiateLanguage,
  parseAcceptLanguage,
  type Language,
} from './languages.js';
export { formatDateTime, formatDatesIn, isTimeZone, type DateOptions } from './dates.js';
export { REASON_LABELS, reasonLabel } from './reasons.js';
export { CATALOGUES, message, pluralKey, text, type Catalogue, type English, type MessageKey, type ParamArgs, type ParamsOf, type PluralBase, type PluralKey, type SentenceKey, type TagsOf, type Translation } from './catalogue.js';
export { formatPlain, namesIn, parseMessage, renderTokens, type Renderer, type Token } from './format.js';
