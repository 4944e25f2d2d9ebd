// Vite build for the web client: plain TypeScript + DOM, one HTML file per page.
// The server serves client/dist at / and the API under /api on the same origin.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const page = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

// Only for `vite` (dev server): forward /api to a running gateway, e.g.
// API_ORIGIN=http://localhost:3000 npx vite --config client/vite.config.ts
const apiOrigin = process.env['API_ORIGIN'];

export default defineConfig({
  root,
  base: '/',
  // Multi-page app: no SPA fallback, so an unknown path (or a missing /api in
  // `vite preview`) answers 404 instead of index.html.
  appType: 'mpa',
  build: {
    outDir: fileURLToPath(new URL('dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      input: {
        index: page('index.html'),
        enrol: page('enrol.html'),
        activate: page('activate.html'),
        keys: page('keys.html'),
        security: page('security.html'),
        helpdesk: page('helpdesk.html'),
        admin: page('admin.html'),
        clients: page('clients.html'),
        approvals: page('approvals.html'),
      },
    },
  },
  server: apiOrigin ? { proxy: { '/api': { target: apiOrigin, changeOrigin: false } } } : {},
  preview: { port: 4179, strictPort: true },
});
