/**
 * The SAML identity provider's API (issue 15): the sign-in page's question "which service asks?",
 * and the org-admin's service-provider registry (metadata upload with step-up, audited) and view
 * of the SAML signing keys. The browser endpoints themselves are in ../samlRouter.ts.
 */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { SessionView } from '../../flows/sessions/resolveSession.js';
import type { Approvals } from '../../approvals/Approvals.js';
import { changeServiceProvider, requestSamlKeyStep } from '../../flows/saml/samlDuties.js';
import { toJsonObject } from '../../approvals/json.js';
import { registeredSp, type SamlDeps } from '../../flows/saml/samlDeps.js';
import { describeSsoRequest } from '../../flows/saml/sso.js';
import { browserBinding } from '../../oidc/browserBinding.js';
import { route, type RouteSpec } from '../registry.js';
import { NotFoundError, SamlAdminError } from '../../errors.js';
import { approvalJson, sessionOf, staffActor } from './shared.js';

const registerBody = z
  .object({
    /** The SP's metadata document, as the file holds it. */
    metadataXml: z.string().min(1).max(512 * 1024),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

function certificateView(use: 'signing' | 'encryption', pem: string) {
  const c = new X509Certificate(pem);
  return { use, subject: c.subject, issuer: c.issuer, validFrom: new Date(c.validFrom).toISOString(), validTo: new Date(c.validTo).toISOString(), sha256: c.fingerprint256, pem };
}

/** The org-admin's change of a registered SP's settings from the page (issue 16). */
const settingsBody = z
  .object({
    entityId: z.string().min(1).max(1024),
    /** The name the sign-in page shows; null removes it (the entityID is shown). */
    displayName: z.string().trim().min(1).max(100).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

function spView(sp: Awaited<ReturnType<typeof registeredSp>> & object, row: { source: string; updatedAt: string; createdAt: string; updatedBy: string | null }) {
  const s = sp.serviceProvider;
  return {
    entityId: s.entityId,
    assertionConsumerServices: s.assertionConsumerServices.map((a) => ({ binding: a.binding, location: a.location, index: a.index, isDefault: a.isDefault })),
    singleLogoutServices: s.singleLogoutServices.map((e) => ({ binding: e.binding, location: e.location })),
    signingCertificates: s.signingCertificates.length,
    encryptionCertificates: s.encryptionCertificates.length,
    /** Issue 16: what the page shows of each certificate of the metadata (never a private key: there is none). */
    certificates: [...s.signingCertificates.map((pem) => certificateView('signing', pem)), ...s.encryptionCertificates.map((pem) => certificateView('encryption', pem))],
    encryptionMethods: s.encryptionMethods,
    metadataSha256: s.metadataSha256,
    metadataSignatureVerified: s.metadataSignatureVerified,
    validUntil: s.validUntil ?? null,
    settings: sp.settings,
    source: row.source,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
  };
}

const SP_CHANGE_REFUSED = 'saml.sp.change-refused';

const STEP_PATHS = { activation: 'activate', destroy: 'destroy', discard: 'discard' } as const;
const STEP_SUMMARIES = {
  activation: 'Ask to switch SAML signing to a pending key (a second security officer approves)',
  destroy: 'Ask to destroy a retired SAML key (a second security officer approves)',
  discard: 'Ask to discard a pending SAML key that never signed: pending -> destroyed on every HSM token, never active (a second security officer approves)',
} as const;

async function viewOf(saml: SamlDeps, entityId: string) {
  const view = await saml.core.store.read(async (tx) => {
    const row = await tx.saml.serviceProvider(entityId);
    const sp = await registeredSp(tx, entityId);
    return row && sp ? spView(sp, row) : undefined;
  });
  if (!view) throw new TypeError('a registered service provider is not in the store');
  return view;
}

export function samlApiRoutes(deps: { saml: SamlDeps; config: Readonly<Config>; approvals: Approvals }): RouteSpec[] {
  const { saml, config, approvals } = deps;
  const officer = (res: Parameters<typeof sessionOf>[0]) => ({ identityId: sessionOf(res).identity.id, role: 'security-officer' as const });
  return [
    route({
      method: 'get',
      path: '/api/saml/authn-request',
      summary: 'The service provider that asked for the pending sign-in ?id=… (for the sign-in page of this browser)',
      tag: 'signin',
      access: { kind: 'public' },
      clause: 'saml-profiles 4.1.4.1',
      responses: { 200: '{ serviceProvider }', 400: 'Unknown, used or expired request (SAML_REQUEST_UNKNOWN)', 403: 'Started in another browser (SAML_BROWSER_MISMATCH)' },
      handler: async ({ req, res }) => {
        const id = typeof req.query['id'] === 'string' ? req.query['id'] : '';
        const binding = browserBinding(req, config.secureCookies);
        const session: unknown = res.locals['session'];
        res.json(await describeSsoRequest(saml, id, binding.isNew ? undefined : binding.value, session ? (session as SessionView) : undefined));
      },
    }),
    route({
      method: 'get',
      path: '/api/admin/saml/service-providers',
      summary: 'The registered SAML service providers (from their metadata) with their settings',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      clause: 'NSIS 6',
      auditRefusal: SP_CHANGE_REFUSED,
      responses: { 200: '{ serviceProviders: [...] }', 403: 'Role' },
      handler: async ({ res }) => {
        const list = await saml.core.store.read(async (tx) => {
          const rows = await tx.saml.serviceProviders();
          const out = [];
          for (const row of rows) {
            const sp = await registeredSp(tx, row.entityId);
            if (sp) out.push(spView(sp, row));
          }
          return out;
        });
        res.json({ serviceProviders: list });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/saml/service-providers',
      summary: 'Register or replace a SAML service provider from its metadata file (validated; a signed file is checked against GATEWAY_SAML_METADATA_TRUST_FILE)',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: registerBody,
      auditRefusal: SP_CHANGE_REFUSED,
      clause: 'NSIS 6; saml-metadata 2.4.4',
      responses: { 201: 'Registered', 200: 'Replaced (or unchanged)', 400: 'Metadata or settings refused (SAML_METADATA_REFUSED, VALIDATION_FAILED)', 403: 'Role', 401: 'Step-up' },
      handler: async ({ res, body }) => {
        const r = await changeServiceProvider(approvals, saml, staffActor(res, 'org-admin'), { metadataXml: body.metadataXml, settings: toJsonObject(body.settings ?? {}) });
        res.status(r.replaced ? 200 : 201).json({ serviceProvider: await viewOf(saml, r.entityId), changed: r.changed });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/saml/service-providers/settings',
      summary: 'Name (for the sign-in page), disable or enable a registered SAML service provider; its metadata stays',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: settingsBody,
      clause: 'NSIS 6 (Low) 1, 7',
      auditRefusal: SP_CHANGE_REFUSED,
      responses: { 200: '{ serviceProvider }', 400: 'VALIDATION_FAILED', 401: 'Step-up', 403: 'Role', 404: 'Unknown SP', 409: 'From the config file (SAML_SP_READ_ONLY)' },
      handler: async ({ res, body }) => {
        const row = await saml.core.store.read((tx) => tx.saml.serviceProvider(body.entityId));
        if (!row) throw new NotFoundError('No such SAML service provider.');
        if (row.source === 'config') throw new SamlAdminError('SAML_SP_READ_ONLY', `Service provider ${body.entityId} comes from the configuration file (GATEWAY_SAML_SP_FILE): change it there.`);
        const { displayName: _displayName, disabled: _disabled, ...kept } = toJsonObject(JSON.parse(row.settings));
        const displayName = body.displayName === undefined ? _displayName : body.displayName;
        const disabled = body.enabled === undefined ? _disabled : !body.enabled;
        const settings = { ...kept, ...(typeof displayName === 'string' ? { displayName } : {}), ...(disabled === true ? { disabled: true } : {}) };
        const r = await changeServiceProvider(approvals, saml, staffActor(res, 'org-admin'), { metadataXml: row.metadataXml, settings });
        res.json({ serviceProvider: await viewOf(saml, r.entityId), changed: r.changed });
      },
    }),
    route({
      method: 'get',
      path: '/api/admin/saml/keys',
      summary: 'The SAML signing keys (pending, active, retired, destroyed) and their certificates',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      clause: 'NSIS 4.1.6 (Low) 3',
      responses: { 200: '{ keys: [...] }', 403: 'Role' },
      handler: async ({ res }) => {
        const keys = await saml.keys.keys();
        res.json({ keys: keys.map(({ ckaId: _ckaId, ...k }) => k) });
      },
    }),
    route({
      method: 'post',
      path: '/api/security/saml/keys',
      summary: 'Generate the next SAML signing key in the HSM (pending: published as the next certificate, signs nothing yet)',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      stepUp: true,
      clause: 'NSIS 4.1.6 (Low) 3',
      auditRefusal: 'saml.key.change-refused',
      responses: { 201: '{ key }', 403: 'Role', 401: 'Step-up' },
      handler: async ({ res }) => {
        const { ckaId: _ckaId, ...key } = await saml.keys.generate(officer(res));
        res.status(201).json({ key });
      },
    }),
    ...(['activation', 'destroy', 'discard'] as const).map((step) =>
      route({
        method: 'post',
        path: `/api/security/saml/keys/:kid/${STEP_PATHS[step]}`,
        summary: STEP_SUMMARIES[step],
        tag: 'security',
        access: { kind: 'role', role: 'security-officer' },
        stepUp: true,
        clause: 'NSIS 6 (Substantial) 11',
        auditRefusal: 'saml.key.change-refused',
        responses: { 200: 'Carried out (one security officer: bootstrap)', 202: 'Waits for a second security officer', 404: 'Unknown SAML key', 409: 'Not in the state the step needs (SAML_KEY_STATE)' },
        handler: async ({ req, res }) => {
          const kid = req.params['kid'];
          if (typeof kid !== 'string' || !/^[A-Za-z0-9_-]{20,128}$/.test(kid)) throw new NotFoundError('Unknown SAML key.');
          const asked = await requestSamlKeyStep(approvals, saml, officer(res), step, kid);
          if (asked.state === 'pending') res.status(202).json({ approval: approvalJson(asked.approval) });
          else res.status(200).json({ result: asked.outcome.result, bootstrap: asked.bootstrap });
        },
      }),
    ),
  ];
}
