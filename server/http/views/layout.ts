/**
 * The frame of every server-rendered page: the product header, one <main>, the gateway's own
 * stylesheet. No inline script or style, so the app's CSP applies unchanged. The header links
 * only to the start page and to "My keys", which fit whether or not the person is signed in (the
 * server renders these pages without looking at the session).
 */
import { html, type SafeHtml } from './html.js';
import { PAGE_STYLESHEET_PATH } from './pageStyles.js';

/** `afterMain`: markup placed after <main> (the form_post page's hashed script). */
export function renderPage(p: { title: string; main: SafeHtml; afterMain?: SafeHtml }): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} – Security keys</title>
<link rel="stylesheet" href="${PAGE_STYLESHEET_PATH}">
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
<p class="site-title"><a href="/">Security keys · Local IdP</a></p>
<nav aria-label="Main"><ul><li><a href="/keys.html">My keys</a></li></ul></nav>
</header>
<main id="main">
${p.main}
</main>
${p.afterMain}
</body>
</html>
`.value;
}
