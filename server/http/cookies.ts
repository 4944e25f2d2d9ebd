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

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
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
