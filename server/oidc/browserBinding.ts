/**
 * Binds a pending authorization request to the browser that brought it (RFC 9700: a flow stays in
 * the user agent that started it, against login CSRF and forwarded flows): the first authorization
 * request that needs a sign-in gives the browser a random value in an HttpOnly cookie, the pending
 * request keeps only its hash, and the continuation link works only with that cookie. A link
 * copied to another browser (by mistake or sent by an attacker hoping the victim signs in to the
 * attacker's request) is refused there.
 */
import type { Request, Response } from 'express';
import { readCookie, setCookie } from '../http/cookies.js';
import { hashesEqual, plainHash, randomToken } from '../security/oneTimeSecrets.js';

/** As long as a pending request lives (REQUEST_TTL_MS in the provider). */
const BINDING_MAX_AGE_S = 600;

export function bindingCookieName(secure: boolean): string {
  return secure ? '__Host-gw_oidc' : 'gw_oidc';
}

/** The browser's binding value, or a new one (not yet sent: see `keepBinding`). */
export function browserBinding(req: Request, secure: boolean): { value: string; isNew: boolean } {
  const existing = readCookie(req, bindingCookieName(secure));
  return existing ? { value: existing, isNew: false } : { value: randomToken(32), isNew: true };
}

/** Sends (or refreshes) the binding cookie. SameSite=Lax: the sign-in page is a top-level visit. */
export function keepBinding(res: Response, secure: boolean, value: string): void {
  setCookie(res, bindingCookieName(secure), value, { secure, maxAgeSeconds: BINDING_MAX_AGE_S, sameSite: 'Lax' });
}

export function bindingHash(value: string): string {
  return plainHash(value);
}

export function bindingMatches(req: Request, secure: boolean, storedHash: string): boolean {
  const value = readCookie(req, bindingCookieName(secure));
  return value !== undefined && hashesEqual(plainHash(value), storedHash);
}
