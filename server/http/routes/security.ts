/**
 * The security officers' page: the HSM signing keys and their two-person management (NSIS 6
 * (Substantial) 11), the fleet and the FIDO metadata (NSIS 3.2.1, 3.2.3 (Low) 4), and the audit
 * verification against the HSM keys and the witness (NSIS 6 (Low) 7, 4.1.7 (Low) 3).
 */
import type { Actor } from '../../domain/types.js';
import { GatewayError } from '../../errors.js';
import { fleetReport } from '../../flows/staff/consoleViews.js';
import { verifyStoreAudit } from '../../audit/verifyAudit.js';
import { listWitnessDirectory } from '../../audit/witness.js';
import type { Response } from 'express';
import { route, type RouteSpec } from '../registry.js';
import { schemas } from '../schemas.js';
import { keyManagerOf, param, sessionOf, type RouteDeps } from './shared.js';

export function securityRoutes(deps: RouteDeps): RouteSpec[] {
  const { flows } = deps;
  const officer = (res: Response): Actor => ({ identityId: sessionOf(res).identity.id, role: 'security-officer' });
  return [
    route({
      method: 'get',
      path: '/api/security/keys',
      summary: 'Signing keys with state, algorithm, kid, times and the HSM attribute check on every token; the key policy profile and the HSM tokens',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      clause: 'NSIS 6 (Substantial) 11, 4.1.6 (Low) 3',
      responses: { 200: 'The keys', 403: 'Role missing', 503: 'HSM unavailable' },
      handler: async ({ res }) => {
        const keys = keyManagerOf(deps);
        res.json({ keys: await keys.list(), jwks: await keys.jwks(), hsm: keys.hsmOverview() });
      },
    }),
    route({
      method: 'get',
      path: '/api/security/key-requests',
      summary: 'Key management requests and their decisions',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      responses: { 200: 'The requests, newest first', 403: 'Role missing' },
      handler: async ({ res }) => {
        res.json({ requests: deps.keys ? await deps.keys.listRequests(sessionOf(res).identity) : [], status: await flows.approvals.status() });
      },
    }),
    route({
      method: 'post',
      path: '/api/security/key-requests',
      summary: 'Request a rotation, an emergency rotation or a destruction (a second, independent officer approves; alone while there is one officer)',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      stepUp: true,
      body: schemas.keyRequest,
      clause: 'NSIS 6 (Substantial) 11',
      responses: { 200: 'Carried out at once (fewer than two security officers: two-person control is off)', 201: 'Requested', 401: 'Step-up required', 403: 'Role missing', 409: 'Not possible in the keys\' current states' },
      handler: async ({ res, body }) => {
        const r = await keyManagerOf(deps).request(officer(res), body.kind, body.targetKid ?? null, body.reason);
        res.status(r.request ? 201 : 200).json(r);
      },
    }),
    route({
      method: 'post',
      path: '/api/security/key-requests/:id/approve',
      summary: 'Approve (and carry out) a request made by another security officer',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      stepUp: true,
      body: schemas.empty,
      clause: 'NSIS 6 (Substantial) 11',
      responses: {
        200: 'Carried out',
        401: 'Step-up required',
        403: 'Same officer, an officer set up by the requester, or role missing',
        404: 'Unknown request',
        409: 'Already decided, or withdrawn',
        503: 'HSM unavailable',
      },
      handler: async ({ req, res }) => {
        res.json({ request: await keyManagerOf(deps).approve(officer(res), param(req, 'id')) });
      },
    }),
    route({
      method: 'post',
      path: '/api/security/key-requests/:id/reject',
      summary: 'Reject a pending request',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      stepUp: true,
      body: schemas.empty,
      responses: { 200: 'Rejected', 403: 'Role missing', 404: 'Unknown request', 409: 'Already decided' },
      handler: async ({ req, res }) => {
        res.json({ request: await keyManagerOf(deps).reject(officer(res), param(req, 'id')) });
      },
    }),
    route({
      method: 'get',
      path: '/api/security/fleet',
      summary: 'Keys by model, certification, level and state; the FIDO metadata in force',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      clause: 'NSIS 3.2.1',
      responses: { 200: 'The report', 403: 'Role missing' },
      handler: async ({ res }) => {
        const current = deps.metadata?.metadata.current();
        res.json({
          // Whether a BLOB source is configured at all: without one, reloading has nothing to load.
          metadataConfigured: deps.metadata !== undefined,
          metadata: current ? { number: current.number, nextUpdate: current.nextUpdate.toISOString(), stale: current.stale } : null,
          fleet: await fleetReport(flows),
        });
      },
    }),
    route({
      method: 'post',
      path: '/api/security/metadata/reload',
      summary: 'Load the FIDO metadata BLOB again from its file or URL and act on compromise and certification changes',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      body: schemas.empty,
      clause: 'NSIS 3.2.3 (Low) 4',
      responses: { 200: 'What was loaded and done', 403: 'Role missing', 409: 'No metadata configured' },
      handler: async ({ res }) => {
        const monitor = deps.metadata;
        if (!monitor) throw new GatewayError('CONFLICT', 409, 'No FIDO metadata is configured: set GATEWAY_MDS_ROOT_FILE and GATEWAY_MDS_BLOB_FILE or GATEWAY_MDS_URL.');
        const results = await monitor.reload();
        const applied = await monitor.apply(flows, deps.assurance);
        res.json({ results, ...applied });
      },
    }),
    route({
      method: 'get',
      path: '/api/security/audit',
      summary: 'Verify the audit trail now against the HSM keys and the witness: keys, hash chain, chained checkpoints, prunes, truncation',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      clause: 'NSIS 6 (Low) 7, 4.1.7 (Low) 3',
      responses: { 200: 'The verification report', 403: 'Role missing' },
      handler: async ({ res }) => {
        await deps.checkpointer?.checkpoint(true).catch(() => undefined);
        // The trust anchor is the HSM token (unreachable: the report says it checked the database against itself only).
        const anchor = await deps.keys?.trustAnchor().catch(() => undefined);
        const witness = { source: deps.config.auditWitnessDir, checkpoints: listWitnessDirectory(deps.config.auditWitnessDir) };
        res.json(await verifyStoreAudit(flows.store, { witness, ...(anchor ? { anchor } : {}) }));
      },
    }),
  ];
}
