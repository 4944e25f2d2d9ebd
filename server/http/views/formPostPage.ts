/**
 * The page of OAuth 2.0 Form Post Response Mode §2 (server/oidc/formPost.ts sends it with its own
 * Content-Security-Policy): a form the browser posts to the client's redirect URI, submitted by
 * the one hashed script in `afterMain`; without JavaScript the person presses the button.
 */
import { html, type SafeHtml } from './html.js';
import type { PageLanguage } from './language.js';
import { renderPage } from './layout.js';
import { plain, sentence } from './words.js';

export function renderFormPostPage(p: { action: string; fields: Array<[string, string]>; application: string; afterMain: SafeHtml; page: PageLanguage }): string {
  const l = p.page.language;
  const app = p.application;
  const main = html`<h1>${plain(l, 'formPost.heading', { app })}</h1>
<form id="form-post" method="post" action="${p.action}">
${p.fields.map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<p>${sentence(l, 'formPost.ifNothing')}</p>
<p class="actions"><button type="submit">${plain(l, 'formPost.continue', { app })}</button></p>
</form>`;
  return renderPage({ title: plain(l, 'formPost.title', { app }), main, afterMain: p.afterMain, page: p.page });
}
