/**
 * Adjusts the Content-Security-Policy helmet set for one response. CSP Level 3 `form-action` also
 * governs where a form submission is redirected: a page whose form ends in a redirect to another
 * origin (the logout confirmation, followed by the client's post_logout_redirect_uri) needs that
 * one origin allowed, and no other.
 */
import type { Response } from 'express';

export function allowFormTarget(res: Response, url: string): void {
  const current = res.getHeader('Content-Security-Policy');
  if (typeof current !== 'string') return;
  // URL.origin is scheme://host[:port]: no spaces or semicolons can reach the header.
  const origin = new URL(url).origin;
  res.setHeader('Content-Security-Policy', current.replace(/form-action ([^;]*)/, (_m, sources: string) => `form-action ${sources} ${origin}`));
}
