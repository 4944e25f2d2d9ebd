/**
 * LogoutResponses (saml-core 3.7.2, saml-profiles 4.4): the IdP's answer to
 * an SP's LogoutRequest, signed by the HSM key and sent to the SP's SLO
 * endpoint (ResponseLocation when given), and the SP's answer to the IdP's
 * own LogoutRequest, verified and matched to it.
 */
import { NAMEID_FORMAT, NS, STATUS } from './constants.js';
import { newSamlId } from './assertion.js';
import { type IncomingMessage, DEFAULT_RECEIVE_LIMITS, receiveSigned } from './bindings/receive.js';
import type { BrokerLogEntry } from './brokerLog.js';
import { SamlError, type SamlStatus } from './errors.js';
import { type OutgoingMessage, type ReceiveLogoutDeps, type VerifiedLogoutRequest, checkLogoutEnvelope, sendSigned } from './logoutRequest.js';
import type { SamlSigningKey } from './ports.js';
import type { ServiceProvider } from './spMetadata.js';
import { attr, optionalChild, requiredChild } from './xml/dom.js';
import { escapeXml, samlInstant } from './xml/escape.js';

/**
 * The signed LogoutResponse to a verified LogoutRequest: Success, or
 * PartialLogout when some session participants could not be logged out.
 */
export async function buildLogoutResponse(key: SamlSigningKey, idpEntityId: string, request: VerifiedLogoutRequest, now: Date, status: SamlStatus = { top: STATUS.success }): Promise<OutgoingMessage> {
  const endpoint = request.responseEndpoint;
  const location = endpoint.responseLocation ?? endpoint.location;
  const id = newSamlId();
  const second = status.second ? `<samlp:StatusCode Value="${status.second}"/>` : '';
  const xml =
    `<samlp:LogoutResponse xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${id}" Version="2.0" IssueInstant="${samlInstant(now)}" ` +
    `Destination="${escapeXml(location)}" InResponseTo="${escapeXml(request.id)}">` +
    `<saml:Issuer Format="${NAMEID_FORMAT.entity}">${escapeXml(idpEntityId)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${status.top}">${second}</samlp:StatusCode></samlp:Status>` +
    '</samlp:LogoutResponse>';
  const log: BrokerLogEntry = { kind: 'LogoutResponse', direction: 'out', id, inResponseTo: request.id, issuer: idpEntityId, destination: location, status };
  return sendSigned(xml, 'SAMLResponse', endpoint, location, key, log, request.relayState);
}

/** A status as an SP wrote it (any URI). */
export interface ReceivedStatus {
  top: string;
  second?: string;
}

export interface VerifiedLogoutResponse {
  id: string;
  inResponseTo: string;
  issuer: string;
  serviceProvider: ServiceProvider;
  status: ReceivedStatus;
  success: boolean;
  relayState?: string;
  log: BrokerLogEntry;
}

/**
 * Receives an SP's LogoutResponse to the IdP's LogoutRequest `expectedRequestId`
 * (signed, verified, in time, single use). Throws SamlError.
 */
export async function receiveLogoutResponse(deps: ReceiveLogoutDeps, message: IncomingMessage, expectedRequestId: string): Promise<VerifiedLogoutResponse> {
  const authentic = await receiveSigned(message, 'SAMLResponse', 'LogoutResponse', deps.lookup, deps.limits ?? DEFAULT_RECEIVE_LIMITS);
  const { element: el, serviceProvider: sp } = authentic;
  const { id } = await checkLogoutEnvelope(deps, el, authentic.binding, 'LogoutResponse', sp);
  const inResponseTo = attr(el, 'InResponseTo');
  if (inResponseTo !== expectedRequestId) throw new SamlError('SAML_MALFORMED', `InResponseTo ${JSON.stringify(inResponseTo ?? null)} is not the pending LogoutRequest`);
  const code = requiredChild(requiredChild(el, NS.samlp, 'Status'), NS.samlp, 'StatusCode');
  const nested = optionalChild(code, NS.samlp, 'StatusCode');
  const status: ReceivedStatus = { top: attr(code, 'Value') ?? '' };
  const second = nested ? attr(nested, 'Value') : undefined;
  if (second !== undefined) status.second = second;
  const out: VerifiedLogoutResponse = {
    id,
    inResponseTo,
    issuer: sp.entityId,
    serviceProvider: sp,
    status,
    success: status.top === STATUS.success,
    log: { kind: 'LogoutResponse', direction: 'in', id, inResponseTo, issuer: sp.entityId, binding: authentic.binding, status, signatureCertificateSha256: authentic.signatureCertificateSha256 },
  };
  if (authentic.relayState !== undefined) out.relayState = authentic.relayState;
  return out;
}
