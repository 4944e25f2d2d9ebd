/**
 * Single logout requests (saml-core 3.7.1, saml-profiles 4.4): an
 * SP-initiated LogoutRequest received (signed, verified like an
 * AuthnRequest, front channel) and the IdP's own LogoutRequests to the other
 * SPs of the session, signed by the HSM key. As OS2faktor requires, a
 * received LogoutRequest names exactly one SessionIndex; which session that
 * is, and whether it belongs to the NameID, the caller decides from its
 * session store.
 */
import { BINDING, NAMEID_FORMAT, NS, SAML_VERSION } from './constants.js';
import { SamlError } from './errors.js';
import { newSamlId } from './assertion.js';
import { type IncomingMessage, type ReceiveLimits, type ServiceProviderLookup, DEFAULT_RECEIVE_LIMITS, receiveSigned } from './bindings/receive.js';
import { type PostForm, encodePost } from './bindings/post.js';
import { encodeRedirect } from './bindings/redirect.js';
import type { BrokerLogEntry } from './brokerLog.js';
import type { ReplayStore, SamlSigningKey } from './ports.js';
import type { Endpoint, ServiceProvider } from './spMetadata.js';
import { attr, childrenNs, instantAttr, requiredChild, textOf } from './xml/dom.js';
import { escapeXml, samlInstant } from './xml/escape.js';
import { signEnveloped } from './xml/signEnveloped.js';

export interface ReceiveLogoutDeps {
  lookup: ServiceProviderLookup;
  replay: ReplayStore;
  /** The IdP's SLO endpoints per binding (Destination must be the one used). */
  sloUrls: { redirect: string; post: string };
  now: Date;
  maxAgeSeconds?: number;
  clockSkewSeconds?: number;
  limits?: ReceiveLimits;
}

export interface VerifiedLogoutRequest {
  id: string;
  issuer: string;
  serviceProvider: ServiceProvider;
  binding: 'redirect' | 'post';
  issueInstant: Date;
  nameId: { value: string; format?: string };
  sessionIndex: string;
  reason?: string;
  relayState?: string;
  /** Where the LogoutResponse goes: the SP's SLO endpoint for the same binding. */
  responseEndpoint: Endpoint;
  log: BrokerLogEntry;
}

/** The SP's SLO endpoint for a binding (preferring the same binding, then POST, then Redirect). */
export function sloEndpointFor(sp: ServiceProvider, preferred: 'redirect' | 'post'): Endpoint | undefined {
  const order = preferred === 'redirect' ? [BINDING.redirect, BINDING.post] : [BINDING.post, BINDING.redirect];
  for (const binding of order) {
    const found = sp.singleLogoutServices.find((e) => e.binding === binding);
    if (found) return found;
  }
  return undefined;
}

/** Time window, Destination and single use shared by LogoutRequest and LogoutResponse. */
export async function checkLogoutEnvelope(deps: ReceiveLogoutDeps, el: Element, binding: 'redirect' | 'post', kind: string, sp: ServiceProvider): Promise<{ id: string; issueInstant: Date }> {
  const id = attr(el, 'ID') ?? '';
  if (!/^[A-Za-z_][\w.-]{0,255}$/.test(id)) throw new SamlError('SAML_MALFORMED', `the ${kind} ID is not an xs:ID`);
  if (attr(el, 'Version') !== SAML_VERSION) throw new SamlError('SAML_UNSUPPORTED_VERSION', `Version ${attr(el, 'Version') ?? '(none)'}`);
  const issueInstant = instantAttr(el, 'IssueInstant');
  const expected = binding === 'redirect' ? deps.sloUrls.redirect : deps.sloUrls.post;
  const destination = attr(el, 'Destination');
  if (destination !== expected) throw new SamlError('SAML_DESTINATION_MISMATCH', `Destination ${JSON.stringify(destination ?? null)} is not ${expected}`);
  const maxAgeMs = (deps.maxAgeSeconds ?? 300) * 1000;
  const skewMs = (deps.clockSkewSeconds ?? 60) * 1000;
  if (issueInstant.getTime() < deps.now.getTime() - maxAgeMs) throw new SamlError('SAML_REQUEST_EXPIRED', `${kind} IssueInstant is too old`);
  if (issueInstant.getTime() > deps.now.getTime() + skewMs) throw new SamlError('SAML_REQUEST_FROM_FUTURE', `${kind} IssueInstant is in the future`);
  const notOnOrAfter = attr(el, 'NotOnOrAfter');
  if (notOnOrAfter !== undefined && instantAttr(el, 'NotOnOrAfter').getTime() <= deps.now.getTime()) {
    throw new SamlError('SAML_REQUEST_EXPIRED', `${kind} NotOnOrAfter has passed`);
  }
  if (!(await deps.replay.consume(`${kind}:${sp.entityId}:${id}`, new Date(issueInstant.getTime() + maxAgeMs + skewMs)))) {
    throw new SamlError('SAML_REPLAYED', `${kind} ${id} from ${sp.entityId} was already received`);
  }
  return { id, issueInstant };
}

/**
 * Receives an SP's LogoutRequest by either binding. Throws SamlError
 * (SAML_UNSIGNED, SAML_SIGNATURE_*, SAML_UNKNOWN_ISSUER, SAML_DESTINATION_MISMATCH,
 * SAML_REQUEST_EXPIRED, SAML_REPLAYED, SAML_MALFORMED...).
 */
export async function receiveLogoutRequest(deps: ReceiveLogoutDeps, message: IncomingMessage): Promise<VerifiedLogoutRequest> {
  const authentic = await receiveSigned(message, 'SAMLRequest', 'LogoutRequest', deps.lookup, deps.limits ?? DEFAULT_RECEIVE_LIMITS);
  const { element: el, serviceProvider: sp } = authentic;
  const { id, issueInstant } = await checkLogoutEnvelope(deps, el, authentic.binding, 'LogoutRequest', sp);
  if (childrenNs(el, NS.saml, 'EncryptedID').length > 0) throw new SamlError('SAML_MALFORMED', 'an EncryptedID is not supported');
  const nameIdEl = requiredChild(el, NS.saml, 'NameID');
  const sessionIndexes = childrenNs(el, NS.samlp, 'SessionIndex').map(textOf);
  if (sessionIndexes.length !== 1 || !sessionIndexes[0]) throw new SamlError('SAML_MALFORMED', `${sessionIndexes.length} SessionIndex elements, exactly one is needed`);
  const responseEndpoint = sloEndpointFor(sp, authentic.binding);
  if (!responseEndpoint) throw new SamlError('SAML_MALFORMED', 'the SP has no SingleLogoutService to answer');

  const nameId: VerifiedLogoutRequest['nameId'] = { value: textOf(nameIdEl) };
  const format = attr(nameIdEl, 'Format');
  if (format !== undefined) nameId.format = format;
  const out: VerifiedLogoutRequest = {
    id,
    issuer: sp.entityId,
    serviceProvider: sp,
    binding: authentic.binding,
    issueInstant,
    nameId,
    sessionIndex: sessionIndexes[0],
    responseEndpoint,
    log: {
      kind: 'LogoutRequest',
      direction: 'in',
      id,
      issuer: sp.entityId,
      binding: authentic.binding,
      nameId: nameId.value,
      sessionIndex: sessionIndexes[0],
      signatureCertificateSha256: authentic.signatureCertificateSha256,
    },
  };
  const reason = attr(el, 'Reason');
  if (reason !== undefined) out.reason = reason;
  if (authentic.relayState !== undefined) out.relayState = authentic.relayState;
  return out;
}

export interface OutgoingLogoutRequestInput {
  idpEntityId: string;
  serviceProvider: ServiceProvider;
  nameId: { value: string; format?: string };
  sessionIndex: string;
  now: Date;
  /** Preferred binding (default redirect); the SP's metadata decides what exists. */
  binding?: 'redirect' | 'post';
  relayState?: string;
  /** NotOnOrAfter, seconds after now (default 300). */
  lifetimeSeconds?: number;
}

/** A message ready to leave by the front channel: a signed redirect URL or a signed POST form. */
export type OutgoingMessage = { binding: 'redirect'; url: string; log: BrokerLogEntry } | { binding: 'post'; form: PostForm; log: BrokerLogEntry };

/** Signs and encodes a protocol message for an SP endpoint by its binding. */
export async function sendSigned(xml: string, parameter: 'SAMLRequest' | 'SAMLResponse', endpoint: Endpoint, location: string, key: SamlSigningKey, log: BrokerLogEntry, relayState?: string): Promise<OutgoingMessage> {
  if (endpoint.binding === BINDING.redirect) {
    return { binding: 'redirect', url: await encodeRedirect(location, parameter, xml, key, relayState), log: { ...log, binding: 'redirect' } };
  }
  const rootLocalName = parameter === 'SAMLRequest' ? 'LogoutRequest' : 'LogoutResponse';
  const signed = await signEnveloped(xml, key, { rootLocalName, afterLocalName: 'Issuer' });
  return { binding: 'post', form: encodePost(location, parameter, signed, relayState), log: { ...log, binding: 'post' } };
}

/**
 * The IdP's LogoutRequest to one SP of the session (IdP-initiated logout or
 * propagation of an SP's logout), signed by the HSM key. Undefined when the
 * SP has no SingleLogoutService.
 */
export async function buildLogoutRequest(key: SamlSigningKey, input: OutgoingLogoutRequestInput): Promise<OutgoingMessage | undefined> {
  const endpoint = sloEndpointFor(input.serviceProvider, input.binding ?? 'redirect');
  if (!endpoint) return undefined;
  const id = newSamlId();
  const notOnOrAfter = new Date(input.now.getTime() + (input.lifetimeSeconds ?? 300) * 1000);
  const xml =
    `<samlp:LogoutRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${id}" Version="2.0" IssueInstant="${samlInstant(input.now)}" ` +
    `Destination="${escapeXml(endpoint.location)}" NotOnOrAfter="${samlInstant(notOnOrAfter)}">` +
    `<saml:Issuer Format="${NAMEID_FORMAT.entity}">${escapeXml(input.idpEntityId)}</saml:Issuer>` +
    `<saml:NameID Format="${escapeXml(input.nameId.format ?? NAMEID_FORMAT.persistent)}">${escapeXml(input.nameId.value)}</saml:NameID>` +
    `<samlp:SessionIndex>${escapeXml(input.sessionIndex)}</samlp:SessionIndex>` +
    '</samlp:LogoutRequest>';
  const log: BrokerLogEntry = {
    kind: 'LogoutRequest',
    direction: 'out',
    id,
    issuer: input.idpEntityId,
    destination: endpoint.location,
    nameId: input.nameId.value,
    sessionIndex: input.sessionIndex,
  };
  return sendSigned(xml, 'SAMLRequest', endpoint, endpoint.location, key, log, input.relayState);
}
