/**
 * The API routes. Handlers translate between HTTP and the core: they never decide anything the
 * lifecycle table or the core decides.
 */
import type { Request, Response } from 'express';
import type { Config } from '../config.js';
import type { Gateway, SessionView } from '../core/Gateway.js';
import type { Actor, Credential, Identity } from '../domain/types.js';
import type Database from 'better-sqlite3';
import type { AuditCheckpointer } from '../audit/Checkpointer.js';
import { verifyAuditDatabase } from '../audit/verifyAuditFile.js';
import { listWitnessDirectory } from '../audit/witness.js';
import { ForbiddenError, GatewayError, NotFoundError, ServiceUnavailableError, UnauthenticatedError } from '../errors.js';
import type { KeyManager } from '../keys/KeyManager.js';
import type { StaffConsole } from '../core/StaffConsole.js';
import type { Approvals } from '../approvals/Approvals.js';
import { toJsonObject } from '../approvals/json.js';
import { DUTY_TABLE, STAFF_ROLES, isApprovalKind, type ApprovalKind } from '../duties/index.js';
import type { ApprovalRecord } from '../store/index.js';
import { changeOidcClient } from '../oidc/clientChange.js';
import type { OpenIdProvider } from '../oidc/OpenIdProvider.js';
import type { MetadataMonitor } from '../assurance/MetadataMonitor.js';
import type { AssuranceService } from '../assurance/AssuranceService.js';
import { clientSchema } from '../oidc/clientsFile.js';
import type { Logger } from '../logger.js';
import type { TokenIssuer } from '../tokens/TokenIssuer.js';
import type { LifecycleAction } from '../lifecycle/index.js';
import { randomToken } from '../security/oneTimeSecrets.js';
import { clearCookie, cookieNames, readCookie, setCookie } from './cookies.js';
import { DEVICE_COOKIE_MAX_AGE_SECONDS, type DeviceCookies } from './deviceCookie.js';
import { schemas, idParam } from './schemas.js';
import { route, type RouteSpec } from './registry.js';

export interface HealthSource {
  health(): Promise<{
    status: 'ok' | 'unavailable';
    detail?: string;
    /** Each HSM token of a failover group (hsm/HsmGroup.ts). */
    tokens?: { name: string; status: 'ok' | 'unavailable'; signing: boolean; detail?: string }[];
  }>;
}

export interface RouteDeps {
  gateway: Gateway;
  config: Readonly<Config>;
  hsm: HealthSource | undefined;
  keys: KeyManager | undefined;
  tokens: TokenIssuer | undefined;
  checkpointer: AuditCheckpointer | undefined;
  db: Database.Database;
  staff: StaffConsole;
  approvals: Approvals;
  oidc: OpenIdProvider | undefined;
  metadata: MetadataMonitor | undefined;
  assurance: AssuranceService;
  log?: Logger;
  schemaVersion: () => number;
  /** Device cookies: a browser that proved to be a person's counts apart in the rate limits. */
  devices: DeviceCookies;
}

export function credentialView(c: Credential, currentCredentialId?: string) {
  return {
    id: c.id,
    label: c.label,
    state: c.state,
    stateReason: c.stateReason,
    aaguid: c.aaguid,
    model: c.model,
    aal: c.aal,
    attestationVerified: c.attestationVerified,
    certification: c.certification,
    attestationFormat: c.attestationFormat,
    backupEligible: c.backupEligible,
    createdAt: c.createdAt,
    activatedAt: c.activatedAt,
    lastUsedAt: c.lastUsedAt,
    expiresAt: c.expiresAt,
    current: c.id === currentCredentialId,
  };
}

export function identityView(i: Identity) {
  return { id: i.id, name: i.name, email: i.email, roles: i.roles, ial: i.ial, bindingState: i.bindingState };
}

/** Reads and checks the session cookie; attaches the view to res.locals. */
export function sessionOf(res: Response): SessionView {
  const view: unknown = res.locals['session'];
  if (!view) throw new UnauthenticatedError();
  return view as SessionView;
}

/** An approval as the API answers it: never its raw payload. */
function approvalJson(a: ApprovalRecord) {
  const { payload: _payload, ...rest } = a;
  return rest;
}

/** The kinds a staff page lists: those its role may approve. */
const KINDS_APPROVED_BY = (role: 'helpdesk' | 'org-admin'): ApprovalKind[] =>
  DUTY_TABLE.filter((r) => r.approvers.some((a) => a === role)).map((r) => r.action).filter(isApprovalKind);

function param(req: Request, name: string): string {
  const parsed = idParam.safeParse(req.params[name]);
  if (!parsed.success) throw new NotFoundError('Unknown resource.');
  return parsed.data;
}

export function buildRoutes(deps: RouteDeps): RouteSpec[] {
  const { gateway, config } = deps;
  const keyManager = (): KeyManager => {
    if (!deps.keys) throw new ServiceUnavailableError('Key management needs the HSM, which is not configured.', 30);
    return deps.keys;
  };
  const tokenIssuer = (): TokenIssuer => {
    if (!deps.tokens) throw new ServiceUnavailableError('Token issuance needs the HSM, which is not configured.', 30);
    return deps.tokens;
  };
  const officer = (res: Response): Actor => ({ identityId: sessionOf(res).identity.id, role: 'security-officer' });
  const staffActor = (res: Response, role: 'helpdesk' | 'org-admin'): Actor => ({ identityId: sessionOf(res).identity.id, role });
  /** Any staff member (approvals and the duties status are for staff only). */
  const staffMember = (res: Response): Identity => {
    const me = sessionOf(res).identity;
    if (!me.roles.some((r) => STAFF_ROLES.some((s) => s === r))) throw new ForbiddenError('ROLE_REQUIRED', 'This needs a staff role (org-admin, helpdesk or security-officer).');
    return me;
  };
  /** The actor for a decision: the approvals mechanism decides which of their roles counts. */
  const decider = (res: Response): Actor => ({ identityId: staffMember(res).id, role: 'org-admin' });
  const names = cookieNames(config.secureCookies);

  /** The browser flow a challenge is bound to (NSIS 3.3.1: bound to the ceremony and browser). */
  const flowOf = (req: Request, res: Response): string => {
    const existing = readCookie(req, names.flow);
    if (existing) return existing;
    const flow = randomToken(32);
    setCookie(res, names.flow, flow, { secure: config.secureCookies, maxAgeSeconds: 900, sameSite: 'Strict' });
    return flow;
  };
  const existingFlow = (req: Request): string => readCookie(req, names.flow) ?? 'no-flow-cookie';

  /**
   * Issue 13, 1: this browser proved to be `identityId`'s (a key touched, or a registration
   * through their one-time link): its device cookie makes the rate limits count it apart.
   */
  const trustBrowser = (req: Request, res: Response, identityId: string): void => {
    setCookie(res, names.device, deps.devices.issue(identityId, readCookie(req, names.device)), {
      secure: config.secureCookies,
      maxAgeSeconds: DEVICE_COOKIE_MAX_AGE_SECONDS,
      sameSite: 'Strict',
    });
  };

  /** A new sign-in replaces the browser's previous session: the old one ends, not lingers. */
  const startSession = async (res: Response, sessionId: string, req?: Request): Promise<void> => {
    const previous = req ? readCookie(req, names.session) : undefined;
    if (previous && previous !== sessionId) await gateway.signOut(previous, 'replaced-by-new-sign-in');
    setCookie(res, names.session, sessionId, {
      secure: config.secureCookies,
      maxAgeSeconds: config.sessionAbsoluteMinutes * 60,
      sameSite: 'Lax',
    });
  };

  const staffAction = (action: LifecycleAction, role: 'helpdesk', summary: string, clause: string) =>
    route({
      method: 'post',
      path: `/api/helpdesk/credentials/:id/${action === 'request-reactivation' ? 'reactivate' : action}`,
      summary,
      tag: 'helpdesk',
      access: { kind: 'role', role },
      stepUp: true,
      body: schemas.staffAction,
      clause,
      responses: { 200: 'The key after the action', 403: 'Role missing', 404: 'Unknown key', 409: 'Refused by the lifecycle table' },
      handler: ({ req, res, body }) => {
        const s = sessionOf(res);
        const actor: Actor = { identityId: s.identity.id, role };
        const key = gateway.transition(actor, param(req, 'id'), action, body.reason, body.note ?? null);
        res.json({ credential: credentialView(key) });
      },
    });

  return [
    route({
      method: 'get',
      path: '/api/health',
      summary: 'Liveness and dependencies (database, HSM, outbox)',
      tag: 'operations',
      access: { kind: 'public' },
      responses: { 200: 'Healthy', 503: 'A dependency is down' },
      handler: async ({ res }) => {
        const hsm = deps.hsm ? await deps.hsm.health() : { status: 'unavailable' as const, detail: 'not configured' };
        const ok = hsm.status === 'ok';
        // Public endpoint: the HSM's own error text (key ids, CKR codes, labels) stays in the log.
        if (!ok) deps.log?.warn({ hsm: hsm.detail }, 'health: HSM unavailable');
        res.status(ok ? 200 : 503).json({
          status: ok ? 'ok' : 'degraded',
          database: { status: 'ok', schemaVersion: deps.schemaVersion() },
          hsm: { status: hsm.status },
          // Issue 13, 9: public, so nothing about the host (no outbox path, SMTP server or labels).
          outbox: { channel: config.outbox },
        });
      },
    }),
    route({
      method: 'post',
      path: '/api/enrolment/options',
      summary: 'Start registering a security key from a one-time enrolment link',
      tag: 'enrolment',
      access: { kind: 'public' },
      body: schemas.enrolmentOptions,
      clause: 'NSIS 3.2.2',
      responses: { 200: 'WebAuthn creation options', 400: 'Link invalid, used or expired', 403: 'Link locked after failed registrations', 429: 'Rate limited (per IP or per link)' },
      handler: async ({ req, res, body }) => {
        res.json(await gateway.beginEnrolment(body.token, flowOf(req, res)));
      },
    }),
    route({
      method: 'post',
      path: '/api/enrolment/verify',
      summary: 'Finish registration; the key starts issued and an activation code goes out by the second channel',
      tag: 'enrolment',
      access: { kind: 'public' },
      body: schemas.enrolmentVerify,
      clause: 'NSIS 3.2.2',
      responses: {
        201: 'Key registered (issued)',
        400: 'Ceremony or link refused',
        403: 'Link locked after failed registrations',
        409: 'Key already registered',
        429: 'Rate limited (per IP or per link)',
      },
      handler: async ({ req, res, body }) => {
        const result = await gateway.completeEnrolment(body.token, existingFlow(req), body.label, body.response);
        trustBrowser(req, res, result.credential.identityId);
        res.status(201).json({ credential: { id: result.credential.id, label: result.credential.label, state: result.credential.state }, activation: result.activation });
      },
    }),
    route({
      method: 'post',
      path: '/api/activation/options',
      summary: 'Start activating (or reactivating) a key: proof of possession',
      tag: 'activation',
      access: { kind: 'public' },
      body: schemas.activationOptions,
      clause: 'NSIS 3.2.2, 3.2.3 (Low) 3',
      responses: { 200: 'WebAuthn request options', 429: 'Rate limited (per IP or per account)' },
      handler: async ({ req, res, body }) => {
        res.json(await gateway.beginActivation(body.email, flowOf(req, res)));
      },
    }),
    route({
      method: 'post',
      path: '/api/activation/verify',
      summary: 'Activate with possession AND the second-channel code; signs the holder in',
      tag: 'activation',
      access: { kind: 'public' },
      body: schemas.activationVerify,
      clause: 'NSIS 3.2.2, 3.2.3 (Low) 3',
      responses: {
        200: 'Key active, session started',
        400: 'Wrong or expired code, or ceremony refused',
        403: 'Code locked',
        409: 'Refused by the lifecycle table',
        429: 'Rate limited (per IP or per key)',
      },
      handler: async ({ req, res, body }) => {
        const browser = res.locals['session'] ? sessionOf(res).identity.id : null;
        const result = await gateway.completeActivation(body.code, existingFlow(req), body.response, browser);
        await startSession(res, result.sessionId, req);
        trustBrowser(req, res, result.identity.id);
        res.json({ credential: { id: result.credential.id, label: result.credential.label, state: result.credential.state }, identity: identityView(result.identity) });
      },
    }),
    route({
      method: 'post',
      path: '/api/signin/options',
      summary: 'Start a security-key sign-in (email optional for discoverable keys)',
      tag: 'signin',
      access: { kind: 'public' },
      body: schemas.signinOptions,
      clause: 'NSIS 3.3.1',
      responses: { 200: 'WebAuthn request options', 429: 'Rate limited (per IP or per account)' },
      handler: async ({ req, res, body }) => {
        res.json(await gateway.beginSignIn(body.email, flowOf(req, res)));
      },
    }),
    route({
      method: 'post',
      path: '/api/signin/verify',
      summary: 'Finish a sign-in; refusals are generic, the reason is audited',
      tag: 'signin',
      access: { kind: 'public' },
      body: schemas.signinVerify,
      clause: 'NSIS 3.3.1, 3.2.3',
      responses: { 200: 'Signed in', 401: 'Sign-in failed', 429: 'Rate limited (per IP or per key)' },
      handler: async ({ req, res, body }) => {
        const result = await gateway.completeSignIn(existingFlow(req), body.response);
        await startSession(res, result.sessionId, req);
        trustBrowser(req, res, result.identity.id);
        let token: string | undefined;
        if (body.audience !== undefined) {
          const view = gateway.resolveSession(result.sessionId);
          if (!view) throw new UnauthenticatedError();
          token = (await tokenIssuer().issue(view, body.audience)).token;
        }
        res.json({ identity: identityView(result.identity), ...(token ? { token } : {}) });
      },
    }),
    route({
      method: 'post',
      path: '/api/signout',
      summary: 'End this session, or with everywhere=true every session (single logout); relying parties are told by back channel',
      tag: 'signin',
      access: { kind: 'public' },
      body: schemas.signout,
      clause: 'NSIS 6 (Low) 5',
      responses: { 204: 'Signed out' },
      handler: async ({ req, res, body }) => {
        const sid = readCookie(req, names.session);
        const view = sid ? gateway.resolveSession(sid) : undefined;
        if (view && body.everywhere) {
          await deps.oidc?.logoutEverywhere(view.identity.id);
          if (!deps.oidc) gateway.endAllSessions(view.identity.id, 'single-logout');
        } else if (sid) {
          await gateway.signOut(sid);
          if (view) await deps.oidc?.backchannelLogout([view.session]);
        }
        clearCookie(res, names.session, config.secureCookies);
        res.status(204).end();
      },
    }),
    route({
      method: 'get',
      path: '/api/me',
      summary: 'Who is signed in',
      tag: 'me',
      access: { kind: 'session' },
      responses: { 200: 'The identity and session', 401: 'Not signed in' },
      handler: ({ res }) => {
        const s = sessionOf(res);
        res.json({ identity: identityView(s.identity), session: { credentialId: s.credential.id, createdAt: s.session.createdAt } });
      },
    }),
    route({
      method: 'get',
      path: '/api/me/credentials',
      summary: 'My security keys',
      tag: 'me',
      access: { kind: 'session' },
      responses: { 200: 'The keys', 401: 'Not signed in' },
      handler: ({ res }) => {
        const s = sessionOf(res);
        res.json({ credentials: gateway.listKeys(s.identity.id).map((c) => credentialView(c, s.credential.id)) });
      },
    }),
    route({
      method: 'get',
      path: '/api/me/credentials/:id/history',
      summary: 'The state history of one of my keys',
      tag: 'me',
      access: { kind: 'session' },
      responses: { 200: 'Transitions, oldest first', 404: 'Unknown key' },
      handler: ({ req, res }) => {
        const s = sessionOf(res);
        const key = gateway.ownKey(s.identity.id, param(req, 'id'));
        res.json({ events: gateway.history(key.id) });
      },
    }),
    route({
      method: 'patch',
      path: '/api/me/credentials/:id',
      summary: 'Rename one of my keys',
      tag: 'me',
      access: { kind: 'session' },
      body: schemas.rename,
      responses: { 200: 'Renamed', 404: 'Unknown key', 409: 'Key revoked or expired' },
      handler: ({ req, res, body }) => {
        const s = sessionOf(res);
        const key = gateway.renameKey({ identityId: s.identity.id, role: 'holder' }, param(req, 'id'), body.label);
        res.json({ credential: credentialView(key, s.credential.id) });
      },
    }),
    route({
      method: 'post',
      path: '/api/me/credentials/:id/report-lost',
      summary: 'Report one of my keys lost: suspended at once',
      tag: 'me',
      access: { kind: 'session' },
      body: schemas.reportLost,
      clause: 'NSIS 3.2.3 (Low) 1',
      responses: { 200: 'Suspended', 404: 'Unknown key', 409: 'Refused by the lifecycle table' },
      handler: ({ req, res, body }) => {
        const s = sessionOf(res);
        const key = gateway.transition({ identityId: s.identity.id, role: 'holder' }, param(req, 'id'), 'suspend', 'lost', body.note ?? null);
        res.json({ credential: credentialView(key, s.credential.id) });
      },
    }),
    route({
      method: 'post',
      path: '/api/tokens',
      summary: 'An identity token for a named audience, signed by the HSM key, from the current security-key session',
      tag: 'tokens',
      access: { kind: 'session' },
      body: schemas.tokenRequest,
      clause: 'NSIS 6 (Low) 1-3, (Substantial) 9',
      responses: { 200: 'The token (compact JWS)', 400: 'Audience not allowed', 401: 'Not signed in', 503: 'HSM unavailable: no token issued' },
      handler: async ({ res, body }) => {
        const issued = await tokenIssuer().issue(sessionOf(res), body.audience);
        res.json({ token: issued.token, expiresAt: new Date(issued.claims.exp * 1000).toISOString(), kid: issued.kid });
      },
    }),
    route({
      method: 'get',
      path: '/api/security/keys',
      summary: 'Signing keys with state, algorithm, kid, times and the HSM attribute check on every token; the key policy profile and the HSM tokens',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      clause: 'NSIS 6 (Substantial) 11, 4.1.6 (Low) 3',
      responses: { 200: 'The keys', 403: 'Role missing', 503: 'HSM unavailable' },
      handler: async ({ res }) => {
        res.json({ keys: await keyManager().list(), jwks: await keyManager().jwks(), hsm: keyManager().hsmOverview() });
      },
    }),
    route({
      method: 'get',
      path: '/api/security/key-requests',
      summary: 'Key management requests and their decisions',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      responses: { 200: 'The requests, newest first', 403: 'Role missing' },
      handler: ({ res }) => {
        res.json({ requests: deps.keys ? deps.keys.listRequests(sessionOf(res).identity) : [], status: deps.approvals.status() });
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
        const r = await keyManager().request(officer(res), body.kind, body.targetKid ?? null, body.reason);
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
        res.json({ request: await keyManager().approve(officer(res), param(req, 'id')) });
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
      handler: ({ req, res }) => {
        res.json({ request: keyManager().reject(officer(res), param(req, 'id')) });
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
      handler: ({ res }) => {
        const current = deps.metadata?.metadata.current();
        res.json({
          // Whether a BLOB source is configured at all: without one, reloading has nothing to load.
          metadataConfigured: deps.metadata !== undefined,
          metadata: current ? { number: current.number, nextUpdate: current.nextUpdate.toISOString(), stale: current.stale } : null,
          fleet: deps.staff.fleetReport(),
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
        const applied = monitor.apply(gateway, deps.assurance);
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
        res.json(verifyAuditDatabase(deps.db, { witness, ...(anchor ? { anchor } : {}) }));
      },
    }),
    route({
      method: 'post',
      path: '/api/me/credentials/:id/found',
      summary: 'I found my lost key: a fresh activation code goes to me; the key plus the code reactivate it',
      tag: 'me',
      access: { kind: 'session' },
      body: schemas.empty,
      clause: 'NSIS 3.2.3 (Low) 3',
      responses: { 200: 'Code sent', 404: 'Unknown key', 409: 'Refused by the lifecycle table' },
      handler: ({ req, res }) => {
        const s = sessionOf(res);
        const key = gateway.transition({ identityId: s.identity.id, role: 'holder' }, param(req, 'id'), 'request-reactivation', 'found', null);
        res.json({ credential: credentialView(key, s.credential.id) });
      },
    }),
    ...(['helpdesk', 'admin'] as const).map((area) =>
      route({
        method: 'get',
        path: `/api/${area}/identities`,
        summary: 'Find people by name, email or UUID',
        tag: area,
        access: { kind: 'role', role: area === 'admin' ? 'org-admin' : 'helpdesk' },
        responses: { 200: 'Up to 50 people', 403: 'Role missing' },
        handler: ({ req, res }) => {
          const s = sessionOf(res);
          const q = typeof req.query['q'] === 'string' ? req.query['q'].slice(0, 200) : '';
          const found = deps.staff.search({ identityId: s.identity.id, role: area === 'admin' ? 'org-admin' : 'helpdesk' }, q);
          res.json({ identities: found.map((i) => ({ ...identityView(i), createdAt: i.createdAt, keyCount: i.keyCount, activeKeyCount: i.activeKeyCount })) });
        },
      }),
    ),
    route({
      method: 'get',
      path: '/api/helpdesk/identities/:id',
      summary: 'A person with their keys (model, state, reason, last use) and each key’s state history',
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      responses: { 200: 'The person', 403: 'Role missing', 404: 'Unknown identity' },
      handler: ({ req, res }) => {
        const d = deps.staff.detail(staffActor(res, 'helpdesk'), param(req, 'id'));
        res.json({
          identity: {
            ...identityView(d.identity),
            proofingMethod: d.identity.proofingMethod,
            proofedBy: d.identity.proofedBy,
            proofedByName: d.proofedByName,
            createdAt: d.identity.createdAt,
            bindingEndedAt: d.identity.bindingEndedAt,
          },
          credentials: d.credentials.map((c) => ({ ...credentialView(c), history: c.history })),
        });
      },
    }),
    route({
      method: 'get',
      path: '/api/helpdesk/identities/:id/audit',
      summary: "A person's audit trail",
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      responses: { 200: 'Events, newest first', 403: 'Role missing', 404: 'Unknown identity' },
      handler: ({ req, res }) => {
        res.json({ events: deps.staff.auditTrail(staffActor(res, 'helpdesk'), param(req, 'id')) });
      },
    }),
    route({
      method: 'post',
      path: '/api/helpdesk/identities/:id/replacement',
      summary: 'A replacement key without new proofing: based on another active key, or approved by a second person',
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      stepUp: true,
      body: schemas.replacement,
      clause: 'NSIS 3.2.4, 5.1',
      responses: { 201: 'Enrolment link mailed to the person (or, for handover, shown once)', 202: 'Waiting for a second approver', 403: 'Role, segregation of duties', 409: 'No basis' },
      handler: async ({ req, res, body }) => {
        const r = await deps.staff.requestReplacement(staffActor(res, 'helpdesk'), param(req, 'id'), {
          basis: body.basis,
          replacesCredentialId: body.replacesCredentialId ?? null,
          revokeNow: body.revokeNow ?? false,
          note: body.note ?? null,
          delivery: body.delivery ?? 'mail',
        });
        if ('approval' in r) res.status(202).json({ approval: approvalJson(r.approval) });
        else res.status(201).json(r);
      },
    }),
    route({
      method: 'post',
      path: '/api/helpdesk/bulk',
      summary: 'Suspend or revoke several keys; more than a handful waits for a second approver',
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      stepUp: true,
      body: schemas.bulk,
      clause: 'NSIS 3.2.3 (Low) 2',
      responses: { 200: 'Per-key results', 202: 'Waiting for a second approver', 403: 'Role, segregation of duties' },
      handler: async ({ res, body }) => {
        const r = await deps.staff.bulk(staffActor(res, 'helpdesk'), { action: body.action, credentialIds: body.credentialIds, reason: body.reason, note: body.note ?? null });
        if ('approval' in r) res.status(202).json({ approval: approvalJson(r.approval) });
        else res.json(r);
      },
    }),
    route({
      method: 'get',
      path: '/api/helpdesk/approvals',
      summary: 'Requests waiting for (or decided by) a second person',
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      responses: { 200: 'Approvals, newest first', 403: 'Role missing' },
      handler: ({ res }) => {
        res.json({ approvals: deps.approvals.list(sessionOf(res).identity, KINDS_APPROVED_BY('helpdesk')) });
      },
    }),
    ...(['/api/helpdesk/approvals', '/api/approvals'] as const).flatMap((base) =>
      (['approve', 'reject'] as const).map((decision) =>
        route({
          method: 'post',
          path: `${base}/:id/${decision}`,
          summary:
            decision === 'approve'
              ? 'Approve and carry out a request made by someone else (not about you, not by someone who set you up)'
              : 'Reject a pending request (or withdraw your own)',
          tag: base === '/api/approvals' ? 'approvals' : 'helpdesk',
          access: base === '/api/approvals' ? { kind: 'session' } : { kind: 'role', role: 'helpdesk' },
          stepUp: true,
          body: schemas.empty,
          clause: 'NSIS 3.2.2 (High) 3, 3.2.3 (Low) 2, 3.2.4',
          responses: {
            200: 'Decided',
            401: 'Step-up required',
            403: 'Same person, a person the request is about or set up by the requester, or role missing',
            404: 'Unknown approval',
            409: 'Already decided, or withdrawn',
          },
          handler: async ({ req, res }) => {
            const actor = decider(res);
            if (decision === 'reject') {
              res.json({ approval: approvalJson(deps.approvals.reject(actor, param(req, 'id'))) });
              return;
            }
            const { approval, outcome } = await deps.approvals.approve(actor, param(req, 'id'));
            res.json({ approval: approvalJson(approval), ...(outcome.link ? { link: outcome.link } : {}), ...(outcome.detail ?? {}) });
          },
        }),
      ),
    ),
    route({
      method: 'get',
      path: '/api/approvals',
      summary: 'Requests waiting for (or decided by) a second person that you asked for or may approve, each with what will happen and whether you may approve it',
      tag: 'approvals',
      access: { kind: 'session' },
      clause: 'NSIS 3.2.2 (High) 3',
      responses: { 200: 'Approvals, newest first', 403: 'No staff role' },
      handler: ({ res }) => {
        res.json({ approvals: deps.approvals.list(staffMember(res)) });
      },
    }),
    route({
      method: 'get',
      path: '/api/duties',
      summary: 'The separation-of-duties table and which two-person controls are on now (off while too few people hold a role)',
      tag: 'approvals',
      access: { kind: 'session' },
      clause: 'NSIS 3.2.2 (High) 3; 5.2',
      responses: { 200: 'The table and the status', 403: 'No staff role' },
      handler: ({ res }) => {
        staffMember(res);
        res.json({ status: deps.approvals.status(), table: DUTY_TABLE });
      },
    }),
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
        const r = await deps.staff.updateIdentity(staffActor(res, 'org-admin'), param(req, 'id'), {
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
        const r = await deps.staff.setRole(staffActor(res, 'org-admin'), param(req, 'id'), body.role, body.grant);
        res.status(r.approval ? 202 : 200).json({ identity: identityView(r.identity), ...(r.approval ? { approval: approvalJson(r.approval) } : {}) });
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/identities/import',
      summary: 'Import identities from CSV (name,email,ial,proofing_method[,roles]); all or nothing',
      tag: 'admin',
      access: { kind: 'role', role: 'org-admin' },
      stepUp: true,
      body: schemas.importCsv,
      clause: 'NSIS 5.2 (Substantial) 8',
      responses: { 200: 'Created and skipped rows', 400: 'Invalid rows: nothing imported', 403: 'Role missing' },
      handler: async ({ res, body }) => {
        res.json(await deps.staff.importCsv(staffActor(res, 'org-admin'), body.csv));
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
      responses: { 201: 'Registered', 400: 'Invalid', 401: 'Step-up required', 403: 'Role missing', 503: 'No HSM' },
      handler: async ({ res, body }) => {
        if (!deps.oidc) throw new ServiceUnavailableError('The OpenID Provider needs the HSM, which is not configured.', 30);
        const actor: Actor = { identityId: sessionOf(res).identity.id, role: 'org-admin' };
        // Issue 13, 9: the back-channel logout target is resolved and checked before the change is recorded.
        if (body.backchannelLogoutUri) await deps.oidc.checkBackchannelLogoutUri(actor, body.clientId, body.backchannelLogoutUri);
        res.status(201).json(await changeOidcClient(deps.approvals, actor, toJsonObject(body)));
      },
    }),
    staffAction('suspend', 'helpdesk', 'Suspend a key (reason required)', 'NSIS 3.2.3 (Low) 1, (Substantial) 6'),
    staffAction('request-reactivation', 'helpdesk', 'Start reactivation of a suspended key, or resend activation of an issued one: a fresh code goes to the holder', 'NSIS 3.2.2, 3.2.3 (Low) 3'),
    staffAction('revoke', 'helpdesk', 'Revoke a key for good; the holder receives a receipt', 'NSIS 3.2.3 (Low) 4'),
    route({
      method: 'get',
      path: '/api/helpdesk/identities/:id/credentials',
      summary: "An employee's keys with their state history",
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      responses: { 200: 'The keys', 403: 'Role missing', 404: 'Unknown identity' },
      handler: ({ req, res }) => {
        const identity = gateway.getIdentity(param(req, 'id'));
        res.json({
          identity: identityView(identity),
          credentials: gateway.listKeys(identity.id).map((c) => ({ ...credentialView(c), history: gateway.history(c.id) })),
        });
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
        const r = await deps.staff.createIdentity(staffActor(res, 'org-admin'), {
          name: body.name,
          email: body.email,
          ial: body.ial,
          proofingMethod: body.proofingMethod,
          roles: body.roles,
        });
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
      handler: ({ req, res, body }) => {
        const s = sessionOf(res);
        const delivery = body.delivery ?? 'mail';
        const e = gateway.issueEnrolment({ identityId: s.identity.id, role: 'org-admin' }, param(req, 'id'), undefined, delivery);
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
      handler: ({ req, res, body }) => {
        const s = sessionOf(res);
        res.json(gateway.endBinding({ identityId: s.identity.id, role: 'org-admin' }, param(req, 'id'), body.reason, body.note ?? null));
      },
    }),
  ];
}
