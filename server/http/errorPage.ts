/**
 * Error pages for people: the error boundary answers a browser (Accept prefers text/html) with a
 * styled page that says what happened, what to do next and, for a sign-in an application asked
 * for, names that application. API clients keep problem+json. The texts are one table by code,
 * with a fallback by status, so every error has a page.
 */
import type { Request, Response } from 'express';
import { GatewayError, OidcRequestError, type ErrorCode } from '../errors.js';
import { html, type SafeHtml } from './views/html.js';
import { renderPage } from './views/layout.js';

interface PageText {
  heading: (app: string | undefined) => string;
  /** What to do next, one item each; may hold links. */
  steps: (app: string | undefined) => SafeHtml[];
}

const signInLink = html`<a href="/">Sign in with your security key</a>`;
const theApp = (app: string | undefined) => app ?? 'the application';
const helpdesk = html`If it keeps happening, contact your IT helpdesk and give them the reference at the bottom of this page.`;

/** Page texts by stable error code; codes not listed fall back to BY_STATUS. */
const BY_CODE: Partial<Record<ErrorCode, PageText>> = {
  NOT_FOUND: {
    heading: () => 'Page not found',
    steps: () => [html`Check the address: it may be mistyped or out of date.`, html`<a href="/">Go to the sign-in page</a> or <a href="/keys.html">open your security keys</a>.`],
  },
  UNAUTHENTICATED: { heading: () => 'Sign in first', steps: () => [signInLink, html`Then open this page again.`] },
  STEP_UP_REQUIRED: { heading: () => 'Touch your security key again', steps: () => [signInLink, html`Then repeat what you were doing.`] },
  RATE_LIMITED: { heading: () => 'Too many attempts', steps: () => [html`Wait a minute, then try again.`, helpdesk] },
  SERVICE_UNAVAILABLE: { heading: () => 'The service is busy', steps: () => [html`Nothing was changed. Try again in a moment.`, helpdesk] },
  OIDC_REQUEST_REFUSED: {
    heading: (app) => (app ? `The sign-in request from ${app} was refused` : 'This sign-in request was refused'),
    steps: (app) => [
      html`Go back to ${theApp(app)} and start the sign-in again.`,
      html`If it happens again, tell ${app ? `the administrator of ${app}` : 'your IT helpdesk'}: the application's request does not match how it is registered at this gateway. The reference at the bottom of this page helps them.`,
    ],
  },
  OIDC_REQUEST_UNKNOWN: {
    heading: () => 'This sign-in link has expired or was already used',
    steps: (app) => [html`Go back to ${theApp(app)} and sign in again.`, html`A sign-in link works once, for 10 minutes.`],
  },
  OIDC_BROWSER_MISMATCH: {
    heading: () => 'This sign-in was started in another browser',
    steps: (app) => [
      html`Open ${theApp(app)} in this browser and sign in from there.`,
      html`A sign-in link only works in the browser that started it, so that nobody can use a link they send you to sign you in to their session.`,
    ],
  },
  OIDC_LOGOUT_NOT_CONFIRMED: {
    heading: () => 'You were not signed out',
    steps: () => [html`The confirmation has expired or did not come from this gateway's own page.`, html`<a href="/keys.html">Open your security keys</a> and use “Sign out” there.`],
  },
};

function byStatus(status: number): PageText {
  if (status === 403) return { heading: () => 'Not allowed', steps: () => [html`If you think you should have access, contact your IT helpdesk.`, html`<a href="/">Go to the sign-in page</a>.`] };
  if (status >= 500) return { heading: () => 'Something went wrong', steps: () => [html`Nothing you did caused this. Try again in a moment.`, helpdesk] };
  return { heading: () => 'The request could not be served', steps: () => [html`Go back and try again.`, helpdesk] };
}

/**
 * Whether the answer should be an HTML page. A browser's navigation prefers text/html; an API
 * client names JSON. For `Accept: *` (or none) the endpoint decides: pages for the user-agent
 * endpoints of the OpenID Provider, JSON elsewhere.
 */
export function prefersHtml(req: Request, htmlByDefault: boolean): boolean {
  const htmlFirst = req.accepts(['text/html', 'application/problem+json', 'application/json']);
  if (htmlFirst !== 'text/html') return false;
  const jsonFirst = req.accepts(['application/problem+json', 'application/json', 'text/html']);
  return jsonFirst === 'text/html' || htmlByDefault;
}

export function wantsErrorPage(req: Request, err: GatewayError): boolean {
  return prefersHtml(req, err instanceof OidcRequestError && !req.originalUrl.startsWith('/api/'));
}

export function sendErrorPage(res: Response, err: GatewayError, requestId: string | undefined): void {
  const app = err instanceof OidcRequestError ? err.application : undefined;
  const text = BY_CODE[err.code] ?? byStatus(err.status);
  const heading = text.heading(app);
  const main = html`<h1>${heading}</h1>
${app ? html`<p class="lead" data-testid="application">${app} sent you here to sign in.</p>` : ''}
<p class="problem" role="alert">${err.detail}</p>
<section class="next-steps" aria-labelledby="next-steps-heading">
<h2 id="next-steps-heading">What you can do</h2>
<ul>${text.steps(app).map((s) => html`<li>${s}</li>`)}</ul>
</section>
<p class="reference">Error code <code>${err.code}</code>${err instanceof OidcRequestError ? html` (<code>${err.oauthError}</code>)` : ''}${requestId ? html` · reference <code data-testid="request-id">${requestId}</code>` : ''}</p>`;
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.setHeader('Cache-Control', 'no-store');
  res.status(err.status).type('text/html').send(renderPage({ title: heading, main }));
}
