/** Cookie names and attributes. `__Host-` and Secure whenever the origin is https. */
import type { Request, Response } from 'express';

export interface CookieNames {
  session: string;
  flow: string;
  /** The browser's device cookie (deviceCookie.ts): which holder's own browser this is. */
  device: string;
}

export function cookieNames(secure: boolean): CookieNames {
  return secure
    ? { session: '__Host-gw_session', flow: '__Host-gw_flow', device: '__Host-gw_device' }
    : { session: 'gw_session', flow: 'gw_flow', device: 'gw_device' };
}

/** The Cookie header of a request, split once into name -> raw value (the first of a name wins). */
interface ParsedCookies {
  header: string;
  values: Map<string, string>;
}
const parsed = new WeakMap<Request, ParsedCookies>();

function cookiesOf(req: Request, header: string): Map<string, string> {
  const known = parsed.get(req);
  // Keyed on the header itself too: should anything replace it, it is split again.
  if (known !== undefined && known.header === header) return known.values;
  const values = new Map<string, string>();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!values.has(name)) values.set(name, part.slice(eq + 1).trim());
  }
  parsed.set(req, { header, values });
  return values;
}

const COOKIE_VALUE = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * The value of cookie `name` when it is one the gateway could have set (16-128 URL-safe
 * characters), else undefined. A request's Cookie header is split once, however many cookies a
 * request reads (session, flow, device: issue 17).
 */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  const value = cookiesOf(req, header).get(name);
  return value !== undefined && COOKIE_VALUE.test(value) ? value : undefined;
}

export function setCookie(res: Response, name: string, value: string, opts: { secure: boolean; maxAgeSeconds: number; sameSite: 'Strict' | 'Lax' }): void {
  res.append(
    'Set-Cookie',
    `${name}=${value}; Path=/; HttpOnly; SameSite=${opts.sameSite}; Max-Age=${opts.maxAgeSeconds}${opts.secure ? '; Secure' : ''}`,
  );
}

export function clearCookie(res: Response, name: string, secure: boolean): void {
  res.append('Set-Cookie', `${name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`);
}
