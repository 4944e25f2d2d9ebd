/**
 * The stylesheet of the server-rendered pages, served from the gateway's own origin so that the
 * Content-Security-Policy (style-src 'self') holds without inline styles. It follows the look of
 * client/src/style.css (same colours, header, buttons) so these pages read as part of the product.
 */
import { createHash } from 'node:crypto';

export const PAGE_STYLESHEET_PATH = '/_gateway/page.css';

export const PAGE_STYLESHEET = `:root {
  --text: #1b1b1b; --muted: #4a4a4a; --bg: #ffffff; --panel: #f3f4f6; --line: #c4c7cc;
  --accent: #0b5cad; --accent-dark: #07427d; --danger: #a4161a; --focus: #ffbf47;
  color-scheme: light;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  font-size: 100%; line-height: 1.5; color: var(--text); background: var(--bg);
}
body { margin: 0; }
.skip-link { position: absolute; left: -999em; }
.skip-link:focus { left: 1rem; top: 1rem; z-index: 10; background: var(--bg); padding: 0.5rem; }
.site-header {
  display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem 2rem;
  padding: 0.75rem 1.5rem; background: var(--accent-dark); color: #fff;
}
.site-title { margin: 0; font-weight: 700; }
.site-header ul { display: flex; flex-wrap: wrap; gap: 1.25rem; margin: 0; padding: 0; list-style: none; }
.site-header a { color: #fff; }
.site-title a { text-decoration: none; }
.site-tools { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; }
.language-switch { font-weight: 600; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; overflow-wrap: anywhere; }
h1 { font-size: 1.75rem; margin: 1rem 0; }
h2 { font-size: 1.1rem; margin: 0.5rem 0; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.problem { padding: 0.5rem 0.75rem; border-left: 4px solid var(--danger); background: #fdecec; color: var(--danger); font-weight: 600; }
.lead { font-size: 1.1rem; }
.next-steps { margin: 1rem 0; padding: 0.25rem 1rem 0.5rem; border-left: 4px solid var(--accent); background: var(--panel); }
.next-steps ul { margin: 0.25rem 0 0.5rem; padding-left: 1.2rem; }
.next-steps li { margin: 0.25rem 0; }
.reference { color: var(--muted); font-size: 0.9rem; }
.reference code { overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem 1.25rem; margin-top: 1.25rem; }
button {
  font: inherit; padding: 0.45rem 1rem; border: 2px solid var(--accent); border-radius: 3px;
  background: var(--accent); color: #fff; cursor: pointer;
}
button:hover { background: var(--accent-dark); }
`;

/** Strong validator for the stylesheet: it changes only with the code. */
export const PAGE_STYLESHEET_ETAG = `"${createHash('sha256').update(PAGE_STYLESHEET).digest('base64url').slice(0, 22)}"`;
