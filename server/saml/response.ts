/**
 * The samlp:Response envelope (saml-core 3.2.2, 3.3.3): unsigned, with
 * Destination = the ACS, InResponseTo, Issuer and Status; on success exactly
 * one EncryptedAssertion (OIOSAML 3: "Successful responses SHOULD NOT be
 * directly signed" and "MUST contain exactly one encrypted Assertion").
 */
import { NAMEID_FORMAT, NS, STATUS } from './constants.js';
import type { SamlStatus } from './errors.js';
import { escapeXml, samlInstant } from './xml/escape.js';

export interface ResponseEnvelope {
  id: string;
  idpEntityId: string;
  destination: string;
  inResponseTo: string;
  issueInstant: Date;
}

function statusXml(status: SamlStatus, message?: string): string {
  const second = status.second ? `<samlp:StatusCode Value="${status.second}"/>` : '';
  const text = message ? `<samlp:StatusMessage>${escapeXml(message)}</samlp:StatusMessage>` : '';
  return `<samlp:Status><samlp:StatusCode Value="${status.top}">${second}</samlp:StatusCode>${text}</samlp:Status>`;
}

function open(envelope: ResponseEnvelope): string {
  return (
    `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${escapeXml(envelope.id)}" Version="2.0" ` +
    `IssueInstant="${samlInstant(envelope.issueInstant)}" Destination="${escapeXml(envelope.destination)}" InResponseTo="${escapeXml(envelope.inResponseTo)}">` +
    `<saml:Issuer Format="${NAMEID_FORMAT.entity}">${escapeXml(envelope.idpEntityId)}</saml:Issuer>`
  );
}

/** Status Success and the one `<saml:EncryptedAssertion>`. */
export function successResponseXml(envelope: ResponseEnvelope, encryptedAssertion: string): string {
  return `${open(envelope)}${statusXml({ top: STATUS.success })}${encryptedAssertion}</samlp:Response>`;
}

/** A refusal: the status and an optional public message, no assertion. */
export function errorResponseXml(envelope: ResponseEnvelope, status: SamlStatus, message?: string): string {
  return `${open(envelope)}${statusXml(status, message)}</samlp:Response>`;
}
