/**
 * The keys of the address a sign-in's options request names, when the rate limits already read
 * them in THIS request (issue 17: nothing read twice in a sign-in). The trusted-browser check
 * (rateLimit.ts, issue 13, 1) needs the address's holder; the options need the holder's keys; one
 * statement gives both (`credentials.keysOfActiveEmail`), so the check reads it and the options
 * use what it read.
 *
 * Kept per response object only (a WeakMap: gone with the request), never across requests: a
 * suspension or a key committed anywhere is seen by the very next request (NSIS 3.3.1), and
 * nothing is decided on data read in an earlier request.
 */
import type { Response } from 'express';
import { normaliseEmail } from '../domain/identities.js';
import type { KeysOfEmail } from '../flows/signin/beginSignIn.js';

const reads = new WeakMap<Response, { email: string; held: KeysOfEmail }>();

/** Remembers, for this request only, what was read for `email`. */
export function rememberSignInKeys(res: Response, email: string, held: KeysOfEmail): void {
  reads.set(res, { email: normaliseEmail(email), held });
}

/** What this request already read for `email` (the same address, normalised), if anything. */
export function signInKeysRead(res: Response, email: string | undefined): { held: KeysOfEmail } | undefined {
  if (email === undefined) return undefined;
  const read = reads.get(res);
  return read !== undefined && read.email === normaliseEmail(email) ? { held: read.held } : undefined;
}
