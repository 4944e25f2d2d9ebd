/**
 * What the route files share: their dependencies, the views of records the API answers with,
 * and the cookies of a ceremony (the flow a challenge is bound to, the session, the device).
 * Handlers translate between HTTP and the flows: they never decide anything a flow decides.
 */
import type { Request, Response } from 'express';
import type { AuditCheckpointer } from '../../audit/Checkpointer.js';
import type { AssuranceService } from '../../assurance/AssuranceService.js';
import type { MetadataMonitor } from '../../assurance/MetadataMonitor.js';
import type { Config } from '../../config.js';
import type { ApprovalRecord } from '../../domain/approvals.js';
import type { Actor, Credential, Identity } from '../../domain/types.js';
import { DUTY_TABLE, STAFF_ROLES, isApprovalKind, type ApprovalKind } from '../../duties/index.js';
import { ForbiddenError, NotFoundError, ServiceUnavailableError, UnauthenticatedError } from '../../errors.js';
import type { ConsoleDeps } from '../../flows/consoleDeps.js';
import type { SessionView } from '../../flows/sessions/resolveSession.js';
import type { KeyManager } from '../../keys/KeyManager.js';
import type { Logger } from '../../logger.js';
import type { OpenIdProvider } from '../../oidc/OpenIdProvider.js';
import { randomToken } from '../../security/oneTimeSecrets.js';
import { cookieNames, readCookie, setCookie } from '../cookies.js';
import { DEVICE_COOKIE_MAX_AGE_SECONDS, type DeviceCookies } from '../deviceCookie.js';
import { idParam } from '../schemas.js';

export interface HealthSource {
  health(): Promise<{
    status: 'ok' | 'unavailable';
    detail?: string;
    /** Each HSM token of a failover group (hsm/HsmGroup.ts). */
    tokens?: { name: string; status: 'ok' | 'unavailable'; signing: boolean; detail?: string }[];
  }>;
}

export interface RouteDeps {
  /** The flows' ports (the store among them) and the approvals mechanism. */
  flows: ConsoleDeps;
  config: Readonly<Config>;
  hsm: HealthSource | undefined;
  keys: KeyManager | undefined;
  checkpointer: AuditCheckpointer | undefined;
  oidc: OpenIdProvider | undefined;
  metadata: MetadataMonitor | undefined;
  assurance: AssuranceService;
  log?: Logger;
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
  return { id: i.id, name: i.name, email: i.email, roles: i.roles, ial: i.ial, bindingState: i.bindingState, language: i.language };
}

/** The session resolved for this request (app.ts); unauthenticated without one. */
export function sessionOf(res: Response): SessionView {
  const view: unknown = res.locals['session'];
  if (!view) throw new UnauthenticatedError();
  return view as SessionView;
}

/** An approval as the API answers it: never its raw payload. */
export function approvalJson(a: ApprovalRecord) {
  const { payload: _payload, ...rest } = a;
  return rest;
}

/** The kinds a staff page lists: those its role may approve. */
export const KINDS_APPROVED_BY = (role: 'helpdesk' | 'org-admin'): ApprovalKind[] =>
  DUTY_TABLE.filter((r) => r.approvers.some((a) => a === role)).map((r) => r.action).filter(isApprovalKind);

export function param(req: Request, name: string): string {
  const parsed = idParam.safeParse(req.params[name]);
  if (!parsed.success) throw new NotFoundError('Unknown resource.');
  return parsed.data;
}

export function staffActor(res: Response, role: 'helpdesk' | 'org-admin'): Actor {
  return { identityId: sessionOf(res).identity.id, role };
}

/** Any staff member (approvals and the duties status are for staff only). */
export function staffMember(res: Response): Identity {
  const me = sessionOf(res).identity;
  if (!me.roles.some((r) => STAFF_ROLES.some((s) => s === r))) throw new ForbiddenError('ROLE_REQUIRED', 'This needs a staff role (org-admin, helpdesk or security-officer).');
  return me;
}

export function keyManagerOf(deps: RouteDeps): KeyManager {
  if (!deps.keys) throw new ServiceUnavailableError('Key management needs the HSM, which is not configured.', 30);
  return deps.keys;
}

/** The cookies of the ceremonies. */
export function ceremonyCookies(deps: RouteDeps) {
  const { config } = deps;
  const names = cookieNames(config.secureCookies);
  return {
    names,
    /** The browser flow a challenge is bound to (NSIS 3.3.1: bound to the ceremony and browser). */
    flowOf(req: Request, res: Response): string {
      const existing = readCookie(req, names.flow);
      if (existing) return existing;
      const flow = randomToken(32);
      setCookie(res, names.flow, flow, { secure: config.secureCookies, maxAgeSeconds: 900, sameSite: 'Strict' });
      return flow;
    },
    existingFlow(req: Request): string {
      return readCookie(req, names.flow) ?? 'no-flow-cookie';
    },
    /** The session this browser had (a new sign-in replaces it, in its own commit). */
    previousSession(req: Request): string | undefined {
      return readCookie(req, names.session);
    },
    /**
     * Issue 13, 1: this browser proved to be `identityId`'s (a key touched, or a registration
     * through their one-time link): its device cookie makes the rate limits count it apart.
     */
    trustBrowser(req: Request, res: Response, identityId: string): void {
      setCookie(res, names.device, deps.devices.issue(identityId, readCookie(req, names.device)), {
        secure: config.secureCookies,
        maxAgeSeconds: DEVICE_COOKIE_MAX_AGE_SECONDS,
        sameSite: 'Strict',
      });
    },
    /** The new session's cookie. */
    startSession(res: Response, sessionId: string): void {
      setCookie(res, names.session, sessionId, { secure: config.secureCookies, maxAgeSeconds: config.sessionAbsoluteMinutes * 60, sameSite: 'Lax' });
    },
  };
}
