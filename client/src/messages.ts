// What went wrong, in words a person understands: one sentence per situation of the key pages
// (sign-in, activation, enrolment, step-up) and per stable error code the server answers with.
// The words are in the catalogues (i18n/<language>/common.ts and problems.ts).
//
// A key that does not answer is NOT the key's fault most of the time: the browser offers only the
// keys the server named, and for an email address without a key waiting (unknown, mistyped, or
// already activated) the server names a decoy no key holds. The page cannot tell these apart, and
// must not: saying "no such account" would reveal who has one. So each page says what may have
// happened, the same way in every case, and what to do next.
import { CATALOGUES, type MessageKey } from '../../i18n/index.js';
import { pageLanguage, tKey } from './i18n.js';

/** Where a security-key request was made; decides the words when no key answered. */
export type Ceremony = 'register' | 'signin' | 'signin-email' | 'activate' | 'step-up';

const NO_KEY_ANSWERED: Readonly<Record<Ceremony, MessageKey>> = {
  register: 'ceremony.noKey.register',
  signin: 'ceremony.noKey.signin',
  'signin-email': 'ceremony.noKey.signinEmail',
  activate: 'ceremony.noKey.activate',
  'step-up': 'ceremony.noKey.stepUp',
};

/** The words for a key that did not answer (the browser's NotAllowedError or AbortError). */
export function noKeyAnswered(ceremony: Ceremony): string {
  return tKey(NO_KEY_ANSWERED[ceremony]);
}

/**
 * Stable error codes whose server text is written for developers: the page says this instead, in
 * every language. For the other codes an English page keeps the server's own detail, which is
 * written for people (it may carry facts such as the attempts left); a page in another language
 * says the catalogue's words for the code and gives the server's detail after them.
 */
const DEVELOPER_DETAIL: ReadonlySet<string> = new Set(['CHALLENGE_INVALID', 'CEREMONY_FAILED', 'ACTIVATION_NOT_PENDING', 'X509_MALFORMED', 'X509_KEY_MISMATCH', 'X509_NOT_VALID_NOW', 'X509_WRONG_USAGE']);

function problemKey(code: string): MessageKey | undefined {
  const key = `problem.${code}`;
  return key in CATALOGUES.en ? (key as MessageKey) : undefined;
}

/** The page's words for a problem code, or undefined to keep the server's detail. */
export function problemWords(code: string | undefined): string | undefined {
  if (code === undefined) return undefined;
  if (pageLanguage() === 'en' && !DEVELOPER_DETAIL.has(code)) return undefined;
  const key = problemKey(code);
  return key ? tKey(key) : undefined;
}

/**
 * Codes whose server text is always the same sentence the catalogue says for them (errors.ts
 * defaults): the page's words say it all.
 */
const FIXED_DETAIL: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'SIGNIN_FAILED', 'ENROLMENT_INVALID', 'ENROLMENT_LOCKED', 'CSRF_CHECK_FAILED']);

/** Whether the server's detail says more than the page's words for the code (then it is shown too). */
export function serverDetailAdds(code: string | undefined): boolean {
  return code === undefined || !(DEVELOPER_DETAIL.has(code) || FIXED_DETAIL.has(code));
}
