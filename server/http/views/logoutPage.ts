/**
 * The sign-out confirmation (OpenID Connect RP-Initiated Logout 1.0 §2: "the OP SHOULD ask the
 * End-User whether to log out"), in the page language. server/oidc/logout.ts decides when it is
 * shown and with what; this is only the page.
 */
import { html } from './html.js';
import type { PageLanguage } from './language.js';
import { renderPage } from './layout.js';
import { plain, sentence, strong, words } from './words.js';

/** What the confirmation page shows and posts back. */
export interface LogoutConfirmation {
  /** The registered name of the application that asked, when it is known. */
  asker: string | undefined;
  name: string;
  email: string;
  /** The confirmation token bound to the session. */
  token: string;
  clientId: string | undefined;
  postLogout: string | undefined;
  state: string | undefined;
}

export function renderLogoutConfirmation(c: LogoutConfirmation, page: PageLanguage): string {
  const l = page.language;
  const main = html`<h1>${plain(l, 'logout.heading')}</h1>
<p class="lead" data-testid="logout-asker">${c.asker ? words(l, 'logout.askerNamed', { app: c.asker, strong }) : sentence(l, 'logout.asker')}</p>
<p>${words(l, 'logout.signedInAs', { name: c.name, email: c.email, strong })}</p>
<p>${sentence(l, 'logout.ifNot')}</p>
<form id="logout-form" method="post" action="/oidc/logout">
<input type="hidden" name="logout_confirmation" value="${c.token}">
${c.clientId ? html`<input type="hidden" name="client_id" value="${c.clientId}">` : ''}
${c.postLogout ? html`<input type="hidden" name="post_logout_redirect_uri" value="${c.postLogout}">` : ''}
${c.state !== undefined ? html`<input type="hidden" name="state" value="${c.state}">` : ''}
<p class="actions"><button type="submit" id="logout-confirm">${plain(l, 'logout.confirm')}</button> <a id="logout-cancel" href="/keys.html">${plain(l, 'logout.stay')}</a></p>
</form>`;
  return renderPage({ title: plain(l, 'logout.title'), main, page });
}
