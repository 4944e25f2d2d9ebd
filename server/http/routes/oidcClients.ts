/**
 * The org-admin's OpenID Connect clients (issue 16, the clients page): the list, and each change
 * of a registered client through the duties table (oidc-client-change: step-up, carried out at
 * once, the other org-admins and the security officers told). The registration itself is
 * POST /api/admin/oidc-clients (routes/admin.ts). Every refusal is audited (oidc.client-refused).
 */
import type { Response } from 'express';
import { z } from 'zod';
import type { OidcClient } from '../../domain/oidc.js';
import { NotFoundError, ServiceUnavailableError } from '../../errors.js';
import { fromConfigFile } from '../../flows/oidc/manageClient.js';
import { changeOidcClientOperation, type ClientOperation } from '../../oidc/clientChange.js';
import { clientSchema } from '../../oidc/clientsFile.js';
import type { OpenIdProvider } from '../../oidc/OpenIdProvider.js';
import { route, type RouteSpec } from '../registry.js';
import { staffActor, type RouteDeps } from './shared.js';

/** A client as the page shows it: never its secret hash, and where it came from. */
export function clientView(c: OidcClient) {
  return {
    clientId: c.clientId,
    name: c.name,
    redirectUris: c.redirectUris,
    postLogoutRedirectUris: c.postLogoutRedirectUris,
    authMethod: c.authMethod,
    scopes: c.scopes,
    minLoa: c.minLoa,
    backchannelLogoutUri: c.backchannelLogoutUri,
    createdAt: c.createdAt,
    disabledAt: c.disabledAt,
    /** `config`: from GATEWAY_OIDC_CLIENTS_FILE, changed only there (read-only in the console). */
    source: fromConfigFile(c) ? ('config' as const) : ('console' as const),
  };
}

const urisBody = z
  .object({
    redirectUris: clientSchema.shape.redirectUris,
    postLogoutRedirectUris: z.array(z.string().url()).max(20).default([]),
  })
  .strict();

export const OIDC_CLIENT_REFUSED = 'oidc.client-refused';

function provider(deps: RouteDeps): OpenIdProvider {
  if (!deps.oidc) throw new ServiceUnavailableError('The OpenID Provider needs the HSM, which is not configured.', 30);
  return deps.oidc;
}

function clientIdParam(raw: unknown): string {
  const parsed = clientSchema.shape.clientId.safeParse(raw);
  if (!parsed.success) throw new NotFoundError('No such OpenID Connect client.');
  return parsed.data;
}

/** A new secret is answered once: no cache may keep it (RFC 9111 §5.2.2.5). */
function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
}

export function oidcClientRoutes(deps: RouteDeps): RouteSpec[] {
  const { flows } = deps;
  const change = (op: 'rotate-secret' | 'disable' | 'enable', summary: string, path: string): RouteSpec =>
    route({
      method: 'post',
      path: `/api/admin/oidc-clients/:id/${path}`,
      summary,
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      clause: 'NSIS 6 (Low) 1, 7',
      auditRefusal: OIDC_CLIENT_REFUSED,
      responses: {
        200: op === 'rotate-secret' ? '{ clientId, clientSecret } (shown once)' : '{ client }',
        401: 'Step-up (STEP_UP_REQUIRED)',
        403: 'Role (ROLE_REQUIRED)',
        404: 'Unknown client',
        409: 'From the config file (OIDC_CLIENT_READ_ONLY), no secret (OIDC_CLIENT_NO_SECRET), already in that state (OIDC_CLIENT_STATE)',
      },
      handler: async ({ req, res }) => {
        const oidc = provider(deps);
        const o: ClientOperation = { op, clientId: clientIdParam(req.params['id']) };
        const out = await changeOidcClientOperation(flows.approvals, staffActor(res, 'org-admin'), o);
        if (op === 'rotate-secret') {
          noStore(res);
          res.json(out);
          return;
        }
        res.json({ client: await view(oidc, o.clientId) });
      },
    });
  return [
    route({
      method: 'get',
      path: '/api/admin/oidc-clients',
      summary: 'The registered OpenID Connect clients (never a secret), with where each came from',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      clause: 'NSIS 6',
      auditRefusal: OIDC_CLIENT_REFUSED,
      responses: { 200: '{ clients: [...] }', 403: 'Role (ROLE_REQUIRED)' },
      handler: async ({ res }) => {
        res.json({ clients: (await provider(deps).clients()).map(clientView) });
      },
    }),
    change('rotate-secret', 'Rotate a client_secret_basic client’s secret: the new one is answered once, the old one is refused from now on', 'secret'),
    change('disable', 'Disable a client: its sign-in, token and logout requests are refused', 'disable'),
    change('enable', 'Enable a disabled client again', 'enable'),
    route({
      method: 'post',
      path: '/api/admin/oidc-clients/:id/redirect-uris',
      summary: 'Replace a client’s redirect and post-logout redirect URIs (https, http only on localhost, no fragment); its secret stays',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: urisBody,
      clause: 'NSIS 6 (Low) 1, 7; RFC 6749 §3.1.2',
      auditRefusal: OIDC_CLIENT_REFUSED,
      responses: { 200: '{ client }', 400: 'A URI refused (VALIDATION_FAILED)', 401: 'Step-up', 403: 'Role', 404: 'Unknown client', 409: 'From the config file (OIDC_CLIENT_READ_ONLY)' },
      handler: async ({ req, res, body }) => {
        const oidc = provider(deps);
        const clientId = clientIdParam(req.params['id']);
        await changeOidcClientOperation(flows.approvals, staffActor(res, 'org-admin'), { op: 'redirect-uris', clientId, ...body });
        res.json({ client: await view(oidc, clientId) });
      },
    }),
  ];
}

async function view(oidc: OpenIdProvider, clientId: string) {
  const c = (await oidc.clients()).find((x) => x.clientId === clientId);
  if (!c) throw new NotFoundError(`No OpenID Connect client ${clientId}.`);
  return clientView(c);
}
