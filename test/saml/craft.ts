/**
 * Crafting SAML requests as an SP (or an attacker) would: our own XML,
 * signed with the SP's software key by xml-crypto (POST) or over the query
 * string (Redirect). Used by the hostile-input tests.
 */
import { sign } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';
import { ALG, NS } from '../../server/saml/index.js';
import { ACS_URL, SP_ENTITY_ID, SSO_URL } from './support.js';

export interface AuthnRequestFields {
  id?: string;
  issueInstant?: Date;
  destination?: string | null;
  issuer?: string;
  acsUrl?: string | null;
  forceAuthn?: boolean;
  isPassive?: boolean;
  inner?: string;
  version?: string;
}

export function authnRequestXml(f: AuthnRequestFields = {}): string {
  const attrs = [
    `ID="${f.id ?? `_${Math.random().toString(16).slice(2)}${Date.now()}`}"`,
    `Version="${f.version ?? '2.0'}"`,
    `IssueInstant="${(f.issueInstant ?? new Date()).toISOString()}"`,
    f.destination === null ? '' : `Destination="${f.destination ?? SSO_URL}"`,
    f.acsUrl === null ? '' : `AssertionConsumerServiceURL="${f.acsUrl ?? ACS_URL}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"`,
    f.forceAuthn ? 'ForceAuthn="true"' : '',
    f.isPassive ? 'IsPassive="true"' : '',
  ].filter(Boolean);
  return (
    `<samlp:AuthnRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ${attrs.join(' ')}>` +
    `<saml:Issuer>${f.issuer ?? SP_ENTITY_ID}</saml:Issuer>${f.inner ?? ''}</samlp:AuthnRequest>`
  );
}

/** Enveloped signature (rsa-sha256, exc-c14n) on the root, after Issuer, with the given key. */
export function signPost(xml: string, privateKeyPem: string, rootLocalName = 'AuthnRequest', first = false): string {
  const sig = new SignedXml({ privateKey: privateKeyPem, signatureAlgorithm: ALG.rsaSha256, canonicalizationAlgorithm: ALG.excC14n });
  sig.addReference({ xpath: `/*[local-name(.)='${rootLocalName}']`, transforms: [ALG.enveloped, ALG.excC14n], digestAlgorithm: ALG.sha256 });
  const root = `/*[local-name(.)='${rootLocalName}']`;
  sig.computeSignature(xml, { prefix: 'ds', location: first ? { reference: root, action: 'prepend' } : { reference: `${root}/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

export function postFields(xml: string, relayState?: string): Record<string, string> {
  const fields: Record<string, string> = { SAMLRequest: Buffer.from(xml, 'utf8').toString('base64') };
  if (relayState !== undefined) fields.RelayState = relayState;
  return fields;
}

/** The raw query of a Redirect-binding message signed with the key (saml-bindings 3.4.4.1). */
export function signRedirect(xml: string, privateKeyPem: string, options: { relayState?: string; sigAlg?: string; hash?: string; parameter?: string } = {}): string {
  const parameter = options.parameter ?? 'SAMLRequest';
  let query = `${parameter}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`;
  if (options.relayState !== undefined) query += `&RelayState=${encodeURIComponent(options.relayState)}`;
  query += `&SigAlg=${encodeURIComponent(options.sigAlg ?? ALG.rsaSha256)}`;
  const signature = sign(options.hash ?? 'sha256', Buffer.from(query, 'utf8'), privateKeyPem);
  return `${query}&Signature=${encodeURIComponent(signature.toString('base64'))}`;
}

export function unsignedRedirect(xml: string): string {
  return `SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`;
}
