/**
 * Error pages for people: the error boundary answers a browser (Accept prefers text/html) with a
 * styled page that says what happened, what to do next and, for a sign-in an application asked
 * for, names that application. API clients keep problem+json. The texts are one table by code,
 * with a fallback by status, so every error has a page; their words are in the catalogues
 * (i18n/<language>/server.ts), in the page language of the request (views/language.ts).
 */
import type { Request, Response } from 'express';
import type { Language } from '../../i18n/index.js';
import { GatewayError, OidcRequestError, SamlRequestError, type ErrorCode } from '../errors.js';
import { html, type SafeHtml } from './views/html.js';
import { pageLanguageOf } from './views/language.js';
import { renderPage } from './views/layout.js';
import { linkTo, plain, sentence, words } from './views/words.js';

interface PageText {
  heading: (l: Language, app: string | undefined) => string;
  /** What to do next, one item each; may hold links. */
  steps: (l: Language, app: string | undefined) => SafeHtml[];
}

const signInLink = (l: Language) => words(l, 'errorPage.signInLink', { link: linkTo('/') });
const theApp = (l: Language, app: string | undefined) => app ?? plain(l, 'errorPage.theApplication');
const helpdesk = (l: Language) => sentence(l, 'errorPage.helpdesk');
const say = sentence;

/** Page texts by stable error code; codes not listed fall back to BY_STATUS. */
const BY_CODE: Partial<Record<ErrorCode, PageText>> = {
  NOT_FOUND: {
    heading: (l) => plain(l, 'errorPage.notFound.heading'),
    steps: (l) => [say(l, 'errorPage.notFound.check'), words(l, 'errorPage.notFound.go', { signin: linkTo('/'), keys: linkTo('/keys.html') })],
  },
  UNAUTHENTICATED: { heading: (l) => plain(l, 'errorPage.unauthenticated.heading'), steps: (l) => [signInLink(l), say(l, 'errorPage.unauthenticated.then')] },
  STEP_UP_REQUIRED: { heading: (l) => plain(l, 'errorPage.stepUp.heading'), steps: (l) => [signInLink(l), say(l, 'errorPage.stepUp.then')] },
  RATE_LIMITED: { heading: (l) => plain(l, 'errorPage.rateLimited.heading'), steps: (l) => [say(l, 'errorPage.rateLimited.wait'), helpdesk(l)] },
  SERVICE_UNAVAILABLE: { heading: (l) => plain(l, 'errorPage.unavailable.heading'), steps: (l) => [say(l, 'errorPage.unavailable.nothing'), helpdesk(l)] },
  OIDC_REQUEST_REFUSED: {
    heading: (l, app) => (app ? plain(l, 'errorPage.refused.headingNamed', { app }) : plain(l, 'errorPage.refused.heading')),
    steps: (l, app) => [
      words(l, 'errorPage.refused.goBack', { app: theApp(l, app) }),
      app ? words(l, 'errorPage.refused.tellNamed', { app }) : say(l, 'errorPage.refused.tell'),
    ],
  },
  OIDC_REQUEST_UNKNOWN: {
    heading: (l) => plain(l, 'errorPage.unknown.heading'),
    steps: (l, app) => [words(l, 'errorPage.unknown.goBack', { app: theApp(l, app) }), say(l, 'errorPage.unknown.once')],
  },
  OIDC_BROWSER_MISMATCH: {
    heading: (l) => plain(l, 'errorPage.mismatch.heading'),
    steps: (l, app) => [words(l, 'errorPage.mismatch.open', { app: theApp(l, app) }), say(l, 'errorPage.mismatch.why')],
  },
  OIDC_LOGOUT_NOT_CONFIRMED: {
    heading: (l) => plain(l, 'errorPage.logout.heading'),
    steps: (l) => [say(l, 'errorPage.logout.expired'), words(l, 'errorPage.logout.use', { link: linkTo('/keys.html') })],
  },
};

function byStatus(status: number): PageText {
  if (status === 403) {
    return {
      heading: (l) => plain(l, 'errorPage.forbidden.heading'),
      steps: (l) => [say(l, 'errorPage.forbidden.contact'), words(l, 'errorPage.forbidden.go', { link: linkTo('/') })],
    };
  }
  if (status >= 500) return { heading: (l) => plain(l, 'errorPage.server.heading'), steps: (l) => [say(l, 'errorPage.server.notYou'), helpdesk(l)] };
  return { heading: (l) => plain(l, 'errorPage.other.heading'), steps: (l) => [say(l, 'errorPage.other.back'), helpdesk(l)] };
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
  return prefersHtml(req, (err instanceof OidcRequestError || err instanceof SamlRequestError) && !req.originalUrl.startsWith('/api/'));
}

/**
 * What happened, in the page language: the server's own detail on an English page (it is written
 * for people and may carry specifics), the catalogue's words for the code on a page in another
 * language, with the server's detail after them, marked as English.
 */
function problemText(l: Language, err: GatewayError): SafeHtml {
  const detail = html`<span class="server-text" lang="en">${err.detail}</span>`;
  if (l === 'en') return detail;
  return html`${plain(l, `problem.${err.code}`)} ${words(l, 'errorPage.serverSaid', { detail })}`;
}

/** `fallback`: the signed-in person's language, else the organisation's (when neither the switch nor the browser says). */
export function sendErrorPage(res: Response, err: GatewayError, requestId: string | undefined, fallback: Language): void {
  const page = pageLanguageOf(res.req, res, false, fallback);
  const l = page.language;
  const app = err instanceof OidcRequestError ? err.application : undefined;
  const text = BY_CODE[err.code] ?? byStatus(err.status);
  const heading = text.heading(l, app);
  const code = html`<code>${err.code}</code>`;
  const reference =
    err instanceof OidcRequestError ? words(l, 'errorPage.referenceOauth', { code, oauth: html`<code>${err.oauthError}</code>` }) : words(l, 'errorPage.reference', { code });
  const main = html`<h1>${heading}</h1>
${app ? html`<p class="lead" data-testid="application">${plain(l, 'errorPage.sentBy', { app })}</p>` : ''}
<p class="problem" role="alert">${problemText(l, err)}</p>
<section class="next-steps" aria-labelledby="next-steps-heading">
<h2 id="next-steps-heading">${plain(l, 'errorPage.whatYouCanDo')}</h2>
<ul>${text.steps(l, app).map((s) => html`<li>${s}</li>`)}</ul>
</section>
<p class="reference">${reference}${requestId ? words(l, 'errorPage.requestId', { id: html`<code data-testid="request-id">${requestId}</code>` }) : ''}</p>`;
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.setHeader('Cache-Control', 'no-store');
  res.status(err.status).type('text/html').send(renderPage({ title: heading, main, page }));
}
