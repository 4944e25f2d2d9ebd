// What went wrong, in words a person understands: one sentence per situation of the key pages
// (sign-in, activation, enrolment, step-up) and per stable error code the server answers with.
//
// A key that does not answer is NOT the key's fault most of the time: the browser offers only the
// keys the server named, and for an email address without a key waiting (unknown, mistyped, or
// already activated) the server names a decoy no key holds. The page cannot tell these apart, and
// must not: saying "no such account" would reveal who has one. So each page says what may have
// happened, the same way in every case, and what to do next.

/** Where a security-key request was made; decides the words when no key answered. */
export type Ceremony = 'register' | 'signin' | 'signin-email' | 'activate' | 'step-up';

const NO_KEY_ANSWERED: Readonly<Record<Ceremony, string>> = {
  register: 'Your security key was not registered: the request was cancelled or took too long. Press the button again and touch your key.',
  signin:
    'You are not signed in. The key you used has no sign-in for this site, or the request was cancelled. ' +
    'Try again with the key you registered here, or enter your email address first.',
  'signin-email':
    'You are not signed in. Either the email address is not the one your key was registered with, or the key you used is not registered here, or the request was cancelled. ' +
    'Check the email address (or leave it empty) and try again.',
  activate:
    'Nothing was activated. Either this email address has no key waiting for activation, or the key you used is not that key, or the request was cancelled. ' +
    'Check the email address: it is the one your activation code was sent to. An activation code works only once: if your key is already active, sign in instead.',
  'step-up': 'Your security key did not confirm it is you: the request was cancelled or took too long. Try again.',
};

/** The words for a key that did not answer (the browser's NotAllowedError or AbortError). */
export function noKeyAnswered(ceremony: Ceremony): string {
  return NO_KEY_ANSWERED[ceremony];
}

/**
 * Stable error codes whose server text is written for developers: the page says this instead.
 * Codes not listed here keep the server's own detail, which is written for people (it may carry
 * facts such as the attempts left).
 */
const PROBLEM_WORDS: Readonly<Record<string, string>> = {
  CHALLENGE_INVALID: 'This request has expired or was already used. Press the button again.',
  CEREMONY_FAILED: 'Your security key’s answer could not be checked. Try again; if it happens again, contact the helpdesk.',
  ACTIVATION_NOT_PENDING:
    'This key is not waiting for activation: it may be active already (then sign in), or its activation was withdrawn. The helpdesk can send a new activation code.',
};

/** The page's words for a problem code, or undefined to keep the server's detail. */
export function problemWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : PROBLEM_WORDS[code];
}
