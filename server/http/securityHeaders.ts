/**
 * The security headers of every answer (helmet: CSP, HSTS, no-referrer, nosniff, frame and
 * cross-origin policies), decided ONCE at start-up and then set from a prebuilt list.
 *
 * Helmet stays the source of the headers: its middleware is run once against a recorder at
 * start-up, and what it set (and removed) is what every response gets. With the gateway's
 * directives nothing in them depends on the request (no nonce functions), so the result is the
 * same for every request; helmet's own per-request chain of a dozen middlewares is then skipped
 * (issue 17: the HTTP layer's CPU per sign-in).
 */
import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

export interface SecurityHeaders {
  /** Header name and value, in the order helmet set them. */
  set: readonly (readonly [string, string])[];
  /** Headers helmet removes (X-Powered-By). */
  removed: readonly string[];
}

/** What helmet sets with `options`; throws when a header would depend on the request. */
export function securityHeadersOf(options: Readonly<HelmetOptions>): SecurityHeaders {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const middleware = helmet(options);
  // Helmet reads nothing from the request unless a directive is a function of it: a request with
  // nothing in it makes such a directive visible (it would fail or differ), and it is refused.
  const request = Object.freeze({});
  const recorder = {
    setHeader(name: string, value: unknown): void {
      if (typeof value !== 'string') throw new TypeError(`helmet set ${name} to a non-string value`);
      set.push([name, value]);
    },
    removeHeader(name: string): void {
      removed.push(name);
    },
  };
  let finished = false;
  let failure: unknown;
  // The recorder stands in for the response: helmet calls setHeader/removeHeader only.
  (middleware as unknown as (req: object, res: typeof recorder, next: (err?: unknown) => void) => void)(request, recorder, (err?: unknown) => {
    finished = true;
    failure = err;
  });
  if (!finished) throw new TypeError('helmet did not finish synchronously: its headers cannot be prebuilt');
  if (failure !== undefined) throw failure instanceof Error ? failure : new TypeError(String(failure));
  return { set, removed };
}

/** Sets the prebuilt headers on every response. */
export function securityHeaders(options: Readonly<HelmetOptions>): RequestHandler {
  const { set, removed } = securityHeadersOf(options);
  return (_req, res, next) => {
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}
