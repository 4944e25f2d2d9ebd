/**
 * The organisation admin's console: binding people (NSIS 3.1.2, 5.2), their contact and
 * identifying data (NSIS 3.2.3 (Low) 4), roles (NSIS 5.2 (Substantial) 8), the import, enrolment
 * links (NSIS 3.2.2), the end of a binding (NSIS 5.2 (Low) 3) and the relying parties (NSIS 6).
 */
import type { Actor } from '../../domain/types.js';
import { OidcClientError, ServiceUnavailableError } from '../../errors.js';
import { fromConfigFile } from '../../flows/oidc/manageClient.js';
import { OIDC_CLIENT_REFUSED } from './oidcClients.js';
import { issueEnrolment } from '../../flows/enrolment/issueEnrolment.js';
import { bindEmployee } from '../../flows/identities/bindEmployee.js';
import { endBinding } from '../../flows/identities/endBinding.js';
import { importIdentities } from '../../flows/identities/importIdentities.js';
import { setRole } from '../../flows/identities/setRole.js';
import { updateIdentity } from '../../flows/identities/updateIdentity.js';
import { toJsonObject } from '../../approvals/json.js';
import { changeOidcClient } from '../../oidc/clientChange.js';
import { clientSchema } from '../../oidc/clientsFile.js';
import { route, type RouteSpec } from '../registry.js';
import { schemas } from '../schemas.js';
import { approvalJson, identityView, param, sessionOf, staffActor, type RouteDeps } from './shared.js';

export function adminRoutes(deps: RouteDeps): RouteSpec[] {
  const { flows } = deps;
  return [
    route({
      method: 'patch',
      path: '/api/admin/identities/:id',
      summary: 'Correct contact data (email) or identifying data (name: keys issued on it are revoked as data-error)',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.updateIdentity,
      clause: 'NSIS 3.2.3 (Low) 4',
      responses: {
        200: 'Name corrected',
        202: 'The email change waits for a second staff member; the old address is told',
        403: 'Role, segregation of duties',
        404: 'Unknown identity',
        409: 'Email taken',
      },
      handler: async ({ req, res, body }) => {
        const r = await updateIdentity(flows, staffActor(res, 'org-admin'), param(req, 'id'), {
          ...(body.email !== undefined ? { email: body.email } : {}),
          ...(body.name !== undefined ? { name: body.name } : {}),
          note: body.note ?? null,
        });
        res.status(r.approval ? 202 : 200).json({ identity: identityView(r.identity), revokedKeys: r.revokedKeys, ...(r.approval ? { approval: approvalJson(r.approval) } : {}) });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/identities/:id/roles',
      summary: 'Grant a role (staff roles wait for a second org-admin, except in bootstrap) or withdraw one (at once)',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.setRole,
      clause: 'NSIS 5.2 (Substantial) 8',
      responses: { 200: 'The identity with its roles', 202: 'The grant waits for a second org-admin', 403: 'Role, segregation of duties', 404: 'Unknown identity' },
      handler: async ({ req, res, body }) => {
        const r = await setRole(flows, staffActor(res, 'org-admin'), param(req, 'id'), body.role, body.grant);
        res.status(r.approval ? 202 : 200).json({ identity: identityView(r.identity), ...(r.approval ? { approval: approvalJson(r.approval) } : {}) });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/identities/import',
      summary: 'Import identities from CSV (name,email,ial,proofing_method[,roles][,language]); all or nothing',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.importCsv,
      clause: 'NSIS 5.2 (Substantial) 8',
      responses: { 200: 'Created and skipped rows', 400: 'Invalid rows: nothing imported', 403: 'Role missing' },
      handler: async ({ res, body }) => {
        res.json(await importIdentities(flows, staffActor(res, 'org-admin'), body.csv));
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/oidc-clients',
      summary: 'Register or update a relying party (OpenID Connect client); a client secret is shown once; other admins and the security officers are told',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: clientSchema,
      clause: 'NSIS 6',
      auditRefusal: OIDC_CLIENT_REFUSED,
      responses: { 201: 'Registered', 400: 'Invalid', 401: 'Step-up required', 403: 'Role missing', 409: 'A client from the config file (OIDC_CLIENT_READ_ONLY)', 503: 'No HSM' },
      handler: async ({ res, body }) => {
        if (!deps.oidc) throw new ServiceUnavailableError('The OpenID Provider needs the HSM, which is not configured.', 30);
        const actor: Actor = { identityId: sessionOf(res).identity.id, role: 'org-admin' };
        // Issue 16: a client of GATEWAY_OIDC_CLIENTS_FILE is changed only in that file.
        const existing = (await deps.oidc.clients()).find((c) => c.clientId === body.clientId);
        if (existing && fromConfigFile(existing)) throw new OidcClientError('OIDC_CLIENT_READ_ONLY', `Client ${body.clientId} comes from the configuration file (GATEWAY_OIDC_CLIENTS_FILE): change it there.`);
        res.setHeader('Cache-Control', 'no-store');
        // Issue 13, 9: the back-channel logout target is resolved and checked before the change is recorded.
        if (body.backchannelLogoutUri) await deps.oidc.checkBackchannelLogoutUri(actor, body.clientId, body.backchannelLogoutUri);
        res.status(201).json(await changeOidcClient(flows.approvals, actor, toJsonObject(body)));
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/identities',
      summary: 'Bind an employee to the organisation, with the identity assurance reached',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.createIdentity,
      clause: 'NSIS 3.1.2, 5.2',
      responses: { 201: 'Created (staff roles granted, or waiting for a second org-admin: see roles)', 403: 'Role missing', 409: 'Email already bound' },
      handler: async ({ res, body }) => {
        const r = await bindEmployee(flows, staffActor(res, 'org-admin'), { name: body.name, email: body.email, ial: body.ial, proofingMethod: body.proofingMethod, roles: body.roles, ...(body.language ? { language: body.language } : {}) });
        const roles = r.roles === null ? null : r.roles.state === 'granted' ? r.roles : { state: 'pending', approval: approvalJson(r.roles.approval) };
        res.status(201).json({ identity: identityView(r.identity), roles });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/identities/:id/enrolments',
      summary: 'Issue a one-time enrolment link, mailed to the person (default) or, by explicit choice, shown once to hand over in person; earlier open links are withdrawn',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.enrolmentIssue,
      clause: 'NSIS 3.2.2 (Substantial) 2, (High) 3',
      responses: { 201: 'Mailed (where to, masked), or the link shown once for handover', 403: 'Role missing, binding ended or segregation of duties', 404: 'Unknown identity' },
      handler: async ({ req, res, body }) => {
        const delivery = body.delivery ?? 'mail';
        const e = await issueEnrolment(flows, staffActor(res, 'org-admin'), param(req, 'id'), undefined, delivery);
        res.status(201).json(e.delivery === 'mail' ? { delivery, sentTo: e.sentTo, expiresAt: e.expiresAt } : { delivery, link: e.link, expiresAt: e.expiresAt });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/identities/:id/end-binding',
      summary: 'End a binding: every key revoked, every session ended, the person notified',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.endBinding,
      clause: 'NSIS 5.2 (Low) 3',
      responses: { 200: 'Ended', 403: 'Role missing', 404: 'Unknown identity', 409: 'Already ended' },
      handler: async ({ req, res, body }) => {
        res.json(await endBinding(flows, staffActor(res, 'org-admin'), param(req, 'id'), body.reason, body.note ?? null));
      },
    }),
  ];
}
