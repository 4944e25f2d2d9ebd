/**
 * The API route the sign-in page asks when an application sent the person (index.html?oidc=…):
 * which application asks, so the page can name it (issue 13 item 20). Answered only to the
 * browser that brought the request (its binding cookie), like the continuation itself.
 */
import type { Config } from '../config.js';
import type { SessionView } from '../flows/sessions/resolveSession.js';
import { route, type RouteSpec } from '../http/registry.js';
import { browserBinding } from './browserBinding.js';
import type { OpenIdProvider } from './OpenIdProvider.js';

export function oidcApiRoutes(deps: { oidc: OpenIdProvider; config: Readonly<Config> }): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/api/oidc/authorization-request',
      summary: 'The application that asked for the pending sign-in ?id=… (for the sign-in page of this browser)',
      tag: 'signin',
      access: { kind: 'public' },
      clause: 'OpenID Connect Core 1.0 §3.1.2.4',
      responses: { 200: '{ clientName }', 400: 'Unknown, used or expired request (OIDC_REQUEST_UNKNOWN)', 403: 'Started in another browser (OIDC_BROWSER_MISMATCH)' },
      handler: async ({ req, res }) => {
        const id = typeof req.query['id'] === 'string' ? req.query['id'] : '';
        const binding = browserBinding(req, deps.config.secureCookies);
        const session: unknown = res.locals['session'];
        res.json(await deps.oidc.describeRequest(id, binding.isNew ? undefined : binding.value, session ? (session as SessionView) : undefined));
      },
    }),
  ];
}
