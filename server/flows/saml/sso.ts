/**
 * The SSO service (issue 15; saml-profiles 4.1 Web Browser SSO, OIOSAML 3): an AuthnRequest by
 * HTTP-Redirect or HTTP-POST is verified by server/saml (signature with the SP's metadata
 * certificates over the exact octets, only the verified element read, ACS from metadata,
 * IssueInstant window, replay through the store), audited in the broker log, and kept as a pending
 * request bound to this browser. The browser then comes back by a same-site GET (`resume`): a
 * cross-site POST does not carry the SameSite=Lax session cookie, so the session is only looked at
 * there. The decision is server/saml's table: reuse the session, sign in (the gateway's WebAuthn
 * page; ForceAuthn = a key touch after the request), NoPassive, or refusal; a sign-in below the
 * requested minimum level is answered NoAuthnContext, never with a lower level.
 */
import { z } from 'zod';
import { IDENTITY_ASSURANCE_LEVELS, type Actor } from '../../domain/types.js';
import { SamlRequestError } from '../../errors.js';
import { bindingHash } from '../../oidc/browserBinding.js';
import {
  answerFor,
  answerRefusal,
  checkAchievedLevel,
  decideAuthentication,
  isSamlError,
  issueAuthnResponse,
  issueErrorResponse,
  receiveAuthnRequest,
  refusalLogEntry,
  type IncomingMessage,
  type PostForm,
  type SamlStatus,
} from '../../saml/index.js';
import { hashesEqual, randomToken } from '../../security/oneTimeSecrets.js';
import type { SessionView } from '../sessions/resolveSession.js';
import { auditBroker, auditBrokerIn, authnRequestPolicy, idpEntityId, registeredSp, replayStore, sessionLevel, spLookup, type SamlDeps } from './samlDeps.js';
import { encryptionFor, nameIdFor } from './spSettings.js';

/** Where the browser goes next. */
export type SsoOutcome = { kind: 'post'; form: PostForm; application: string } | { kind: 'redirect'; location: string };

const REQUEST_TTL_MS = 10 * 60_000;
const REQUEST_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** A pending AuthnRequest as stored (parsed back with this schema, never cast). */
export const pendingSchema = z.object({
  id: z.string(),
  issuer: z.string(),
  acsUrl: z.string(),
  relayState: z.string().optional(),
  forceAuthn: z.boolean(),
  isPassive: z.boolean(),
  minimumLevel: z.enum(IDENTITY_ASSURANCE_LEVELS).optional(),
  /** SHA-256 of the browser-binding cookie of the browser that brought the request. */
  browserBinding: z.string(),
});
type Pending = z.infer<typeof pendingSchema>;

const SYSTEM: Actor = { identityId: null, role: 'system' };
const holder = (view: SessionView | undefined): Actor => ({ identityId: view?.identity.id ?? null, role: view ? 'holder' : 'system' });
const answerOf = (p: Pending) => ({ id: p.id, issuer: p.issuer, acsUrl: p.acsUrl, ...(p.relayState !== undefined ? { relayState: p.relayState } : {}) });

/** Receives an AuthnRequest; `browserBinding` is the value of the browser's binding cookie (new or kept). */
export async function receiveSso(deps: SamlDeps, message: IncomingMessage, browserBinding: string): Promise<SsoOutcome> {
  const now = deps.core.clock.now();
  let request: Awaited<ReturnType<typeof receiveAuthnRequest>>;
  try {
    request = await receiveAuthnRequest({ lookup: spLookup(deps), replay: replayStore(deps), policy: authnRequestPolicy(deps), now }, message);
  } catch (err) {
    if (!isSamlError(err)) throw err;
    await auditBroker(deps, 'saml.authn-request.refused', SYSTEM, refusalLogEntry('AuthnRequest', err, message.binding), { reason: err.message.slice(0, 300) });
    const answer = answerRefusal(idpEntityId(deps), err, now);
    if (answer) {
      await auditBroker(deps, 'saml.response.sent', SYSTEM, answer.log);
      return { kind: 'post', form: answer.form, application: err.answerTo?.issuer ?? '' };
    }
    throw new SamlRequestError('SAML_REQUEST_REFUSED', `The SAML request was refused (${err.code}).`, err.code);
  }
  await auditBroker(deps, 'saml.authn-request.received', SYSTEM, request.log, {
    forceAuthn: request.forceAuthn,
    isPassive: request.isPassive,
    minimumLevel: request.minimumLevel ?? null,
  });
  const id = randomToken(24);
  const pending: Pending = {
    ...answerFor(request),
    forceAuthn: request.forceAuthn,
    isPassive: request.isPassive,
    ...(request.minimumLevel ? { minimumLevel: request.minimumLevel } : {}),
    browserBinding: bindingHash(browserBinding),
  };
  await deps.core.store.write((tx) =>
    tx.saml.insertRequest({ id, entityId: request.issuer, params: JSON.stringify(pending), createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + REQUEST_TTL_MS).toISOString() }),
  );
  return { kind: 'redirect', location: `${deps.core.config.origin}/saml/sso/resume?request=${id}` };
}

async function pendingRequest(deps: SamlDeps, requestId: string, browserBinding: string | undefined, actor: Actor): Promise<{ pending: Pending; createdAt: string }> {
  const found = REQUEST_ID.test(requestId) ? await deps.core.store.read((tx) => tx.saml.request(requestId)) : undefined;
  const parsed = found ? pendingSchema.safeParse(JSON.parse(found.params)) : undefined;
  if (!found || !parsed?.success || found.consumed || found.expiresAt <= deps.core.clock.now().toISOString()) {
    const why = !found ? 'unknown' : found.consumed ? 'used' : 'expired';
    await auditBroker(deps, 'saml.authn-request.refused', actor, { kind: 'AuthnRequest', direction: 'in', refusal: `request-${why}`, ...(found ? { issuer: found.entityId } : {}) });
    throw new SamlRequestError('SAML_REQUEST_UNKNOWN', 'This sign-in request is unknown, was already used or has expired.');
  }
  if (browserBinding === undefined || !hashesEqual(bindingHash(browserBinding), parsed.data.browserBinding)) {
    await auditBroker(deps, 'saml.authn-request.refused', actor, { kind: 'AuthnRequest', direction: 'in', id: parsed.data.id, issuer: found.entityId, refusal: 'other-browser' });
    throw new SamlRequestError('SAML_BROWSER_MISMATCH', 'This sign-in request was started in another browser.');
  }
  return { pending: parsed.data, createdAt: found.createdAt };
}

/** Consumes the pending request once; a second use is refused. */
async function consume(deps: SamlDeps, requestId: string): Promise<void> {
  if (!(await deps.core.store.write((tx) => tx.saml.consumeRequest(requestId, deps.core.clock.now().toISOString())))) {
    throw new SamlRequestError('SAML_REQUEST_UNKNOWN', 'This sign-in request was already used.');
  }
}

async function refuseTo(deps: SamlDeps, pending: Pending, status: SamlStatus, actor: Actor, reason: string): Promise<SsoOutcome> {
  const answer = issueErrorResponse(idpEntityId(deps), answerOf(pending), status, deps.core.clock.now());
  await auditBroker(deps, 'saml.response.sent', actor, answer.log, { reason });
  return { kind: 'post', form: answer.form, application: pending.issuer };
}

/** Back at the gateway by a same-site GET: reuse the session, answer, or send the person to the sign-in page. */
export async function resumeSso(deps: SamlDeps, requestId: string, view: SessionView | undefined, browserBinding: string | undefined): Promise<SsoOutcome> {
  const actor = holder(view);
  const { pending } = await pendingRequest(deps, requestId, browserBinding, actor);
  const decision = decideAuthentication({
    forceAuthn: pending.forceAuthn,
    isPassive: pending.isPassive,
    ...(pending.minimumLevel ? { minimumLevel: pending.minimumLevel } : {}),
    ...(view ? { session: { level: sessionLevel(deps, view) } } : {}),
  });
  if (decision.action === 'sign-in') return { kind: 'redirect', location: `${deps.core.config.origin}/index.html?saml=${requestId}` };
  await consume(deps, requestId);
  if (decision.action === 'refuse') return refuseTo(deps, pending, decision.status, actor, decision.reason);
  if (!view) throw new TypeError('reuse-session without a session');
  return answer(deps, pending, view);
}

/** After the sign-in page: the fresh sign-in (a key touch after the request came) answers it. */
export async function continueSso(deps: SamlDeps, requestId: string, view: SessionView | undefined, browserBinding: string | undefined): Promise<SsoOutcome> {
  const actor = holder(view);
  const { pending, createdAt } = await pendingRequest(deps, requestId, browserBinding, actor);
  await consume(deps, requestId);
  // saml-core 3.4.1 ForceAuthn, and any sign-in the request waited for: the session must come
  // from a key touch after the request arrived.
  if (!view || view.session.createdAt < createdAt) {
    return refuseTo(deps, pending, { top: 'urn:oasis:names:tc:SAML:2.0:status:Responder', second: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed' }, actor, 'no fresh sign-in');
  }
  return answer(deps, pending, view);
}

/** For the sign-in page: which service asks, for this browser only. */
export async function describeSsoRequest(
  deps: SamlDeps,
  requestId: string,
  browserBinding: string | undefined,
  view: SessionView | undefined,
): Promise<{ serviceProvider: string; displayName: string | null }> {
  const { pending } = await pendingRequest(deps, requestId, browserBinding, holder(view));
  const sp = await deps.core.store.read((tx) => registeredSp(tx, pending.issuer));
  return { serviceProvider: pending.issuer, displayName: sp?.settings.displayName ?? null };
}

/** The signed, encrypted Response for the session; NoAuthnContext below the requested minimum. */
async function answer(deps: SamlDeps, pending: Pending, view: SessionView): Promise<SsoOutcome> {
  const { core } = deps;
  const actor = holder(view);
  const level = sessionLevel(deps, view);
  const short = checkAchievedLevel(level, pending.minimumLevel);
  if (short) return refuseTo(deps, pending, short, actor, `the sign-in reached ${level}, ${pending.minimumLevel ?? ''} was requested`);
  const { sp, org, idmPerson } = await core.store.read(async (tx) => ({
    sp: await registeredSp(tx, pending.issuer),
    org: await tx.organisations.get(view.identity.organisationId),
    // Issue 18: the subject name id (one value per person) is the persistent NameID.
    idmPerson: await tx.idm.person(view.identity.id),
  }));
  if (!sp || sp.settings.disabled || !org) return refuseTo(deps, pending, { top: 'urn:oasis:names:tc:SAML:2.0:status:Requester', second: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied' }, actor, 'service provider disabled or gone, or organisation gone');
  const now = core.clock.now();
  const sessionIndex = `_${randomToken(20)}`;
  const nameId = { value: nameIdFor(sp.settings, { ...view.identity, subjectNameId: idmPerson?.subjectNameId ?? null }), format: sp.settings.nameIdFormat };
  const sources = { email: view.identity.email, name: view.identity.name, identityId: view.identity.id };
  const key = await deps.keys.activeKey();
  const encryption = encryptionFor(sp.settings);
  let issued: Awaited<ReturnType<typeof issueAuthnResponse>>;
  try {
    issued = await issueAuthnResponse(key, {
      idpEntityId: idpEntityId(deps),
      request: answerOf(pending),
      serviceProvider: sp.serviceProvider,
      now,
      ...(encryption ? { encryption } : {}),
      ...(pending.minimumLevel ? { minimumLevel: pending.minimumLevel } : {}),
      signIn: {
        nameId,
        level,
        authnInstant: new Date(view.session.createdAt),
        sessionIndex,
        cvr: org.cvr,
        orgName: org.name,
        extraAttributes: sp.settings.extraAttributes.map((a) => ({ name: a.name, values: [sources[a.source]] })),
      },
    });
  } catch (err) {
    if (isSamlError(err) && err.answerTo) return refuseTo(deps, pending, err.status, actor, err.code);
    throw err;
  }
  const log = issued.log;
  await core.store.write(async (tx) => {
    // saml-profiles 4.4: the session's participants, for single logout.
    await tx.saml.recordParticipant({ sessionHash: view.session.idHash, entityId: pending.issuer, nameId: nameId.value, nameIdFormat: nameId.format, sessionIndex, createdAt: now.toISOString() });
    await auditBrokerIn(deps, tx, 'saml.response.sent', actor, log, { level, signingKey: key.kid });
  });
  return { kind: 'post', form: issued.form, application: pending.issuer };
}
