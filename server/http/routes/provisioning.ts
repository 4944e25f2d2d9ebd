/**
 * The org-admin's provisioning clients (issue 18): the organisation's directories that bind people
 * by SCIM at /scim/v2. Registering one and issuing or revoking its tokens is a row of the duties
 * table (provisioning-client-change: step-up, the other org-admins and security officers told).
 */
import type { Request } from 'express';
import { z } from 'zod';
import { IDENTITY_ASSURANCE_LEVELS } from '../../domain/types.js';
import { NotFoundError } from '../../errors.js';
import { issueProvisioningToken, registerProvisioningClient, revokeProvisioningToken } from '../../flows/provisioning/clients.js';
import { idmOverview } from '../../flows/idm/idmOverview.js';
import { runReconciliation } from '../../flows/idm/runReconciliation.js';
import { directoryRoleRequests } from '../../flows/provisioning/groupRequests.js';
import { provisioningOverview } from '../../flows/provisioning/views.js';
import { route, type RouteSpec } from '../registry.js';
import { SCIM_BASE_PATH } from '../scimMount.js';
import { param, sessionOf, staffActor, type RouteDeps } from './shared.js';

/** A token id (server/scim/tokens.ts: 96 bits, base64url), not a uuid. */
function tokenIdParam(req: Request): string {
  const parsed = z.string().regex(/^[A-Za-z0-9_-]{16}$/).safeParse(req.params['tokenId']);
  if (!parsed.success) throw new NotFoundError('Unknown provisioning token.');
  return parsed.data;
}

const tokenDays = z.number().int().min(1).max(730).nullable();

const schemas = {
  register: z
    .object({
      label: z.string().trim().min(2).max(100),
      ial: z.enum(IDENTITY_ASSURANCE_LEVELS),
      proofingMethod: z.string().trim().min(3).max(300),
      tokenDays: tokenDays.default(365),
    })
    .strict(),
  token: z.object({ tokenDays: tokenDays.default(365) }).strict(),
  empty: z.object({}).strict(),
};

export function provisioningRoutes(deps: RouteDeps): RouteSpec[] {
  const { flows } = deps;
  const scimUrl = `${flows.config.origin}${SCIM_BASE_PATH}`;
  return [
    route({
      method: 'get',
      path: '/api/admin/provisioning',
      summary: 'The provisioning clients (SCIM) with their tokens and people, the SCIM base URL, the email changes directories sent that wait for a staff member, and the outbound sync to MitID Erhverv (on or off, job counts, newest jobs)',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      clause: 'NSIS 5.2',
      responses: { 200: 'Overview', 403: 'Role missing' },
      handler: async ({ res }) => {
        const actor = staffActor(res, 'org-admin');
        const overview = await flows.store.read(async (tx) => {
          const o = await provisioningOverview(tx, actor, flows.clock.now());
          const me = await tx.identities.get(actor.identityId ?? '');
          return { ...o, idm: await idmOverview(tx, flows.config.idm, me?.organisationId ?? '') };
        });
        res.json({ scimUrl, directoryGroups: flows.groupRoles.current().length > 0, ...overview });
      },
    }),
    route({
      method: 'get',
      path: '/api/admin/scim-group-requests',
      summary: 'The staff roles the organisation’s directory asks for (SCIM Groups mapped by GATEWAY_SCIM_GROUP_ROLES_FILE) that the person does not hold; membership grants nothing: an org-admin asks for the grant (POST /api/admin/identities/:id/roles) and a second org-admin approves it',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      clause: 'NSIS 5.2 (Substantial) 8; 4.1.5 (Substantial) 7',
      responses: { 200: 'The directory role requests', 403: 'Role missing' },
      handler: async ({ res }) => {
        const actor = staffActor(res, 'org-admin');
        res.json({ requests: await flows.store.read((tx) => directoryRoleRequests(tx, actor, flows.groupRoles.current())) });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/provisioning/clients',
      summary: 'Register a provisioning client (the organisation’s directory) with the identity assurance and proofing method declared for its people; its first token is shown once',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.register,
      clause: 'NSIS 3.1.2, 5.2 (Substantial) 8',
      responses: { 201: 'Registered; the token is shown once', 400: 'Invalid', 401: 'Step-up required', 403: 'Role missing' },
      handler: async ({ res, body }) => {
        const r = await registerProvisioningClient(flows, staffActor(res, 'org-admin'), body);
        res.status(201).json({ client: r.client, token: r.token, scimUrl });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/provisioning/clients/:id/tokens',
      summary: 'Issue a further token for a provisioning client (rotation: switch the directory to it, then revoke the old one); shown once',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.token,
      clause: 'NSIS 5.2 (Substantial) 8',
      responses: { 201: 'Issued; shown once', 401: 'Step-up required', 403: 'Role missing', 404: 'Unknown client' },
      handler: async ({ req, res, body }) => {
        res.status(201).json({ token: await issueProvisioningToken(flows, staffActor(res, 'org-admin'), param(req, 'id'), body.tokenDays) });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/provisioning/clients/:id/tokens/:tokenId/revoke',
      summary: 'Revoke a provisioning client’s token: refused at once',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.empty,
      clause: 'NSIS 5.2 (Substantial) 8',
      responses: { 200: 'Revoked', 401: 'Step-up required', 403: 'Role missing', 404: 'Unknown token', 409: 'Already revoked' },
      handler: async ({ req, res }) => {
        await revokeProvisioningToken(flows, staffActor(res, 'org-admin'), param(req, 'id'), tokenIdParam(req));
        res.json({ revoked: true });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/idm/reconcile',
      summary: 'Reconcile with MitID Erhverv now (org-admin, security-key sign-in within GATEWAY_STEP_UP_MINUTES; checked in the flow so that each refusal is audited): the differences found, the IdM jobs queued to repair them, the differences left for a person',
      tag: 'admin',
      access: { kind: 'session' },
      body: schemas.empty,
      clause: 'NSIS 5.2, 3.2.3; issue 18',
      responses: { 200: 'The run\u2019s outcome', 401: 'Step-up required (STEP_UP_REQUIRED)', 403: 'Role missing (ROLE_REQUIRED)', 409: 'Sync off (IDM_SYNC_OFF) or a run in progress (IDM_RECONCILIATION_RUNNING)' },
      handler: async ({ res }) => {
        const view = sessionOf(res);
        res.json({ reconciliation: await runReconciliation(flows, { identity: view.identity, signedInAt: view.session.createdAt, aal: view.session.aal }) });
      },
    }),
  ];
}
