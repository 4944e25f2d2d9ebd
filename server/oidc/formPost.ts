/**
 * OAuth 2.0 Form Post Response Mode §2: the authorization response as an HTML form that the
 * browser posts to the client's redirect URI. The page submits itself with one constant inline
 * script allowed by its SHA-256 hash in this response's Content-Security-Policy (no
 * 'unsafe-inline'); the form may post only to the redirect URI's origin (form-action); without
 * JavaScript the person presses the button.
 */
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { renderFormPostPage } from '../http/views/formPostPage.js';
import { SafeHtml } from '../http/views/html.js';
import { pageLanguageOf } from '../http/views/language.js';

const SUBMIT_SCRIPT = 'document.getElementById("form-post").submit();';
const SUBMIT_SCRIPT_HASH = `'sha256-${createHash('sha256').update(SUBMIT_SCRIPT).digest('base64')}'`;

/**
 * The policy of a form_post page: nothing but its own script, our stylesheet and one target.
 * `answerTo`: an origin the target may redirect the posted form on to (browsers apply form-action
 * to the redirects too), e.g. a SAML SP answering a LogoutRequest with its LogoutResponse by
 * HTTP-Redirect to the gateway.
 */
export function formPostPolicy(action: string, answerTo?: string): string {
  const targets = [new URL(action).origin, ...(answerTo !== undefined && answerTo !== new URL(action).origin ? [new URL(answerTo).origin] : [])];
  return [
    "default-src 'none'",
    `script-src ${SUBMIT_SCRIPT_HASH}`,
    "style-src 'self'",
    `form-action ${targets.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function sendFormPost(res: Response, p: { action: string; params: Record<string, string | null>; application: string; answerTo?: string }): void {
  const fields = Object.entries(p.params).filter((e): e is [string, string] => e[1] !== null);
  const afterMain = new SafeHtml(`<script>${SUBMIT_SCRIPT}</script>`);
  const page = renderFormPostPage({ action: p.action, fields, application: p.application, afterMain, page: pageLanguageOf(res.req, res) });
  res.setHeader('Content-Security-Policy', formPostPolicy(p.action, p.answerTo));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res
    .status(200)
    .type('text/html')
    .send(page);
}
