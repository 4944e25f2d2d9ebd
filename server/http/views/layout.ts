/**
 * The frame of every server-rendered page: the product header as the client's pages draw it (the
 * site name, the navigation, the language switch), one <main>, the gateway's own stylesheet, in
 * the page's language (`<html lang>`). No inline script or style, so the app's CSP applies
 * unchanged. The header links only to the start page and to "My keys", which fit whether or not
 * the person is signed in (the server renders these pages without looking at the session; "My
 * keys" says who is signed in and offers "Sign out").
 */
import { CATALOGUES } from '../../../i18n/index.js';
import { html, type SafeHtml } from './html.js';
import type { PageLanguage } from './language.js';
import { PAGE_STYLESHEET_PATH } from './pageStyles.js';
import { plain } from './words.js';

/** `afterMain`: markup placed after <main> (the form_post page's hashed script). */
export function renderPage(p: { title: string; main: SafeHtml; afterMain?: SafeHtml; page: PageLanguage }): string {
  const { language } = p.page;
  return html`<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${plain(language, 'page.titleSuffix', { title: p.title })}</title>
<link rel="stylesheet" href="${PAGE_STYLESHEET_PATH}">
</head>
<body>
<a class="skip-link" href="#main">${plain(language, 'common.skipLink')}</a>
<header class="site-header">
<p class="site-title"><a href="/">${plain(language, 'common.siteTitle')}</a></p>
<nav aria-label="${plain(language, 'common.nav.label')}"><ul><li><a href="/keys.html">${plain(language, 'page.nav.keys')}</a></li></ul></nav>
<div class="site-tools">${p.page.switchTo.map(
    (s) => html`<a class="language-switch" data-testid="language-switch" href="${s.href}" lang="${s.language}" hreflang="${s.language}">${CATALOGUES[s.language]['common.language.name']}</a>`,
  )}</div>
</header>
<main id="main">
${p.main}
</main>
${p.afterMain}
</body>
</html>
`.value;
}
