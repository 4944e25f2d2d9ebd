/** Words and formats shared by the pages (client/) and the mails (server/): one source for both. */
export { DEFAULT_LANGUAGE, LANGUAGES, languageOf, type Language } from './languages.js';
export { formatDateTime, formatDatesIn, isTimeZone, type DateOptions } from './dates.js';
export { REASON_LABELS, reasonLabel } from './reasons.js';
