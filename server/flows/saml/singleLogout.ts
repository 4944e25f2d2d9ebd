/**
 * Single logout (issue 15; saml-profiles 4.4, saml-core 3.7): an SP's signed LogoutRequest ends the
 * gateway session it names (found by the SP's SessionIndex, and only when it is this browser's
 * session or already ended: a LogoutRequest for another session is refused and audited), the
 * OpenID relying parties of that session are told by the existing back-channel (deps.sessionsEnded
 * after the commit), and every other SAML participant gets a LogoutRequest by the front channel,
 * one after another (each waits for its LogoutResponse, RelayState = the chain step's id); the
 * initiator gets its LogoutResponse last. Signing out at the gateway (`startGatewayLogout`) runs
 * the same chain to the session's SAML SPs and ends on the gateway's own page.
 */
import { z } from 'zod';
import { SYSTEM_ACTOR, type Actor } from '../../domain/types.js';
import type { SessionRecord } from '../../domain/sessions.js';
import { SamlRequestError } from '../../errors.js';
import {
  buildLogoutRequest,
  buildLogoutResponse,
  EndpointSchema,
  isSamlError,
  receiveLogoutRequest,
  receiveLogoutResponse,
  refusalLogEntry,
  STATUS,
  type IncomingMessage,
  type OutgoingMessage,
  type PostForm,
  type SamlStatus,
  type VerifiedLogoutRequest,
} from '../../saml/index.js';
import { randomToken } from '../../security/oneTimeSecrets.js';
import type { SessionView } from '../sessions/resolveSession.js';
import { recordEvent } from '../shared/audit.js';
import { auditBroker, auditBrokerIn, idpEntityId, idpUrls, registeredSp, replayStore, spLookup, type SamlDeps } from './samlDeps.js';

export type SloOutcome = ({ kind: 'post'; form: PostForm; application: string } | { kind: 'redirect'; location: string }) & { endedSession: boolean };

const CHAIN_TTL_MS = 5 * 60_000;
const participantSchema = z.object({ entityId: z.string(), nameId: z.string(), nameIdFormat: z.string(), sessionIndex: z.string() });
/** A step of a logout chain as stored: who still has to be told, whom this step waits for, whom to answer last. */
const chainSchema = z.object({
  kind: z.literal('slo'),
  remaining: z.array(participantSchema),
  awaiting: z.object({ entityId: z.string(), requestId: z.string() }),
  initiator: z
    .object({ requestId: z.string(), entityId: z.string(), relayState: z.string().optional(), responseEndpoint: EndpointSchema, nameId: z.string(), sessionIndex: z.string() })
    .optional(),
  /** Some participant did not confirm: the initiator is told PartialLogout. */
  partial: z.boolean(),
});
type Chain = z.infer<typeof chainSchema>;
type Participant = z.infer<typeof participantSchema>;

function receiveDeps(deps: SamlDeps) {
  const { slo } = idpUrls(deps);
  return { lookup: spLookup(deps), replay: replayStore(deps), sloUrls: { redirect: slo, post: slo }, now: deps.core.clock.now(), maxAgeSeconds: deps.core.config.saml.requestMaxAgeSeconds };
}

function isResponse(message: IncomingMessage): boolean {
  if (message.binding === 'post') return message.fields['SAMLResponse'] !== undefined;
  return new URLSearchParams(message.rawQuery).has('SAMLResponse');
}

function relayStateOf(message: IncomingMessage): string | undefined {
  if (message.binding === 'post') {
    const v = message.fields['RelayState'];
    return typeof v === 'string' ? v : undefined;
  }
  return new URLSearchParams(message.rawQuery).get('RelayState') ?? undefined;
}

function outcomeOf(message: OutgoingMessage, application: string, endedSession: boolean): SloOutcome {
  return message.binding === 'redirect' ? { kind: 'redirect', location: message.url, endedSession } : { kind: 'post', form: message.form, application, endedSession };
}

/** A LogoutRequest or a chain step's LogoutResponse at /saml/slo. */
export async function singleLogout(deps: SamlDeps, message: IncomingMessage, view: SessionView | undefined, sessionId: string | undefined): Promise<SloOutcome> {
  if (isResponse(message)) return nextInChain(deps, message);
  const actor: Actor = { identityId: view?.identity.id ?? null, role: view ? 'holder' : 'system' };
  let request: VerifiedLogoutRequest;
  try {
    request = await receiveLogoutRequest(receiveDeps(deps), message);
  } catch (err) {
    if (!isSamlError(err)) throw err;
    await auditBroker(deps, 'saml.logout-request.refused', actor, refusalLogEntry('LogoutRequest', err, message.binding), { reason: err.message.slice(0, 300) });
    throw new SamlRequestError('SAML_REQUEST_REFUSED', `The SAML logout request was refused (${err.code}).`, err.code);
  }
  const participant = await deps.core.store.read((tx) => tx.saml.participantByIndex(request.issuer, request.sessionIndex));
  const session = participant ? await deps.core.store.read((tx) => tx.sessions.get(participant.sessionHash)) : undefined;
  const live = session && !session.endedAt ? session : undefined;
  const key = await deps.keys.activeKey();
  const now = deps.core.clock.now();
  // Only this browser's session, and only the person the SP names: a LogoutRequest carried to
  // another browser (or naming another person) ends nothing.
  const otherSession = live !== undefined && (view === undefined || view.session.idHash !== live.idHash);
  if (!participant || participant.nameId !== request.nameId.value || otherSession) {
    const reason = !participant ? 'unknown-session-index' : participant.nameId !== request.nameId.value ? 'nameid-mismatch' : 'another-session';
    await auditBroker(deps, 'saml.logout-request.refused', actor, { ...request.log, refusal: reason });
    const answer = await buildLogoutResponse(key, idpEntityId(deps), request, now, { top: STATUS.requester, second: STATUS.requestDenied });
    await auditBroker(deps, 'saml.logout-response.sent', actor, answer.log, { reason });
    return outcomeOf(answer, request.issuer, false);
  }
  await auditBroker(deps, 'saml.logout-request.received', actor, request.log);
  const ended = live ? await endSession(deps, live, actor) : false;
  const others = (await deps.core.store.read((tx) => tx.saml.participantsOfSession(participant.sessionHash))).filter((p) => p.entityId !== request.issuer);
  const initiator: Chain['initiator'] = {
    requestId: request.id,
    entityId: request.issuer,
    responseEndpoint: request.responseEndpoint,
    nameId: request.nameId.value,
    sessionIndex: request.sessionIndex,
    ...(request.relayState !== undefined ? { relayState: request.relayState } : {}),
  };
  return (await propagate(deps, others, initiator, false, ended && sessionId !== undefined)) ?? finish(deps, initiator, false, ended);
}

/** Ends the session in one commit with its audit event; its OpenID relying parties are told after the commit. */
async function endSession(deps: SamlDeps, session: SessionRecord, actor: Actor): Promise<boolean> {
  const at = deps.core.clock.now().toISOString();
  return deps.core.store.write(async (tx) => {
    if (!(await tx.sessions.end(session.idHash, 'saml-logout', at))) return false;
    await recordEvent(deps.core, tx, 'session.ended', actor, session.identityId, { reason: 'saml-logout', clause: 'NSIS 6 (Low) 5' });
    tx.afterCommit(() => deps.core.sessionsEnded([{ ...session, endedAt: at, endReason: 'saml-logout' }]));
    return true;
  });
}

/** Sends the next participant its LogoutRequest (undefined when none is left that has an SLO endpoint). */
async function propagate(deps: SamlDeps, remaining: Participant[], initiator: Chain['initiator'], partial: boolean, endedSession: boolean): Promise<SloOutcome | undefined> {
  const key = await deps.keys.activeKey();
  const queue = [...remaining];
  for (let p = queue.shift(); p; p = queue.shift()) {
    const target = p;
    const sp = await deps.core.store.read((tx) => registeredSp(tx, target.entityId));
    if (!sp) continue;
    const chainId = randomToken(24);
    const now = deps.core.clock.now();
    const out = await buildLogoutRequest(key, {
      idpEntityId: idpEntityId(deps),
      serviceProvider: sp.serviceProvider,
      nameId: { value: target.nameId, format: target.nameIdFormat },
      sessionIndex: target.sessionIndex,
      now,
      relayState: chainId,
    });
    if (!out) continue;
    const requestId = out.log.id ?? '';
    const chain: Chain = { kind: 'slo', remaining: queue, awaiting: { entityId: target.entityId, requestId }, partial, ...(initiator ? { initiator } : {}) };
    await deps.core.store.write(async (tx) => {
      await tx.saml.insertRequest({ id: chainId, entityId: target.entityId, params: JSON.stringify(chain), createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + CHAIN_TTL_MS).toISOString() });
      await auditBrokerIn(deps, tx, 'saml.logout-request.sent', SYSTEM_ACTOR, { ...out.log, issuer: target.entityId }, { idp: idpEntityId(deps) });
    });
    return outcomeOf(out, target.entityId, endedSession);
  }
  return undefined;
}

/** A participant's LogoutResponse: the chain goes on, or ends at the initiator (or the gateway's page). */
async function nextInChain(deps: SamlDeps, message: IncomingMessage): Promise<SloOutcome> {
  const chainId = relayStateOf(message) ?? '';
  const at = deps.core.clock.now().toISOString();
  const step = /^[A-Za-z0-9_-]{16,64}$/.test(chainId) ? await deps.core.store.write((tx) => tx.saml.consumeRequest(chainId, at)) : undefined;
  const parsed = step ? chainSchema.safeParse(JSON.parse(step.params)) : undefined;
  if (!parsed?.success) {
    await auditBroker(deps, 'saml.logout-response.refused', SYSTEM_ACTOR, { kind: 'LogoutResponse', direction: 'in', refusal: 'no-pending-logout' });
    throw new SamlRequestError('SAML_REQUEST_UNKNOWN', 'This logout response answers no pending logout.');
  }
  const chain = parsed.data;
  let partial = chain.partial;
  try {
    const response = await receiveLogoutResponse(receiveDeps(deps), message, chain.awaiting.requestId);
    if (response.issuer !== chain.awaiting.entityId) throw new SamlRequestError('SAML_REQUEST_REFUSED', 'The logout response comes from another service provider.', 'SAML_UNKNOWN_ISSUER');
    partial ||= !response.success;
    await auditBroker(deps, 'saml.logout-response.received', SYSTEM_ACTOR, response.log);
  } catch (err) {
    if (!isSamlError(err) && !(err instanceof SamlRequestError)) throw err;
    const code = isSamlError(err) ? err.code : (err.samlCode ?? err.code);
    await auditBroker(deps, 'saml.logout-response.refused', SYSTEM_ACTOR, { kind: 'LogoutResponse', direction: 'in', issuer: chain.awaiting.entityId, refusal: code });
    partial = true;
  }
  return (await propagate(deps, chain.remaining, chain.initiator, partial, false)) ?? finish(deps, chain.initiator, partial, false);
}

/** The last step: the initiator's LogoutResponse (PartialLogout if someone did not confirm), or the gateway's page. */
async function finish(deps: SamlDeps, initiator: Chain['initiator'], partial: boolean, endedSession: boolean): Promise<SloOutcome> {
  if (!initiator) return { kind: 'redirect', location: `${deps.core.config.origin}/?signed-out=1`, endedSession };
  const sp = await deps.core.store.read((tx) => registeredSp(tx, initiator.entityId));
  if (!sp) return { kind: 'redirect', location: `${deps.core.config.origin}/?signed-out=1`, endedSession };
  const status: SamlStatus = partial ? { top: STATUS.success, second: STATUS.partialLogout } : { top: STATUS.success };
  const request: VerifiedLogoutRequest = {
    id: initiator.requestId,
    issuer: initiator.entityId,
    serviceProvider: sp.serviceProvider,
    binding: 'redirect',
    issueInstant: deps.core.clock.now(),
    nameId: { value: initiator.nameId },
    sessionIndex: initiator.sessionIndex,
    responseEndpoint: initiator.responseEndpoint,
    log: { kind: 'LogoutRequest', direction: 'in', id: initiator.requestId, issuer: initiator.entityId },
    ...(initiator.relayState !== undefined ? { relayState: initiator.relayState } : {}),
  };
  const answer = await buildLogoutResponse(await deps.keys.activeKey(), idpEntityId(deps), request, deps.core.clock.now(), status);
  await auditBroker(deps, 'saml.logout-response.sent', SYSTEM_ACTOR, { ...answer.log, issuer: initiator.entityId }, { partial });
  return outcomeOf(answer, initiator.entityId, endedSession);
}

/**
 * Signing out at the gateway: the session (already ended by the caller) had these SAML
 * participants; each gets a LogoutRequest by the front channel, then the gateway's own page.
 */
export async function startGatewayLogout(deps: SamlDeps, sessionHash: string): Promise<SloOutcome> {
  const participants = await deps.core.store.read((tx) => tx.saml.participantsOfSession(sessionHash));
  return (await propagate(deps, participants, undefined, false, true)) ?? finish(deps, undefined, false, true);
}
