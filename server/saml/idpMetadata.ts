/**
 * The IdP's metadata (saml-metadata 2.4.3), as OS2faktor's MetadataController
 * publishes it for MitID Erhverv: WantAuthnRequestsSigned, the ACTIVE and the
 * NEXT signing certificates, SSO over HTTP-Redirect (and
 * HTTP-POST), SLO over Redirect and POST, NameIDFormat persistent, the
 * attributes the IdP releases, and organisation and technical contact.
 *
 * Key rollover (each step is a new metadata upload, MitID Erhverv has no
 * metadata URL): (1) {active: A, next: B}; (2) after the IdP switched to
 * signing with B: {active: B, previous: A}; (3) {active: B}. The active
 * certificate is always listed first, because an SP built on OIOSAML.Java
 * checks assertions against the first valid signing certificate only, while
 * SPs that try every certificate accept A and B from step 1 on.
 *
 * MitID Erhverv takes the metadata as an uploaded file, and neither
 * OS2faktor nor the guidance signs it; signing with the HSM key is an option
 * ({@link signIdpMetadata}) for relying parties that want it.
 */
import { createHash } from 'node:crypto';
import { ATTRNAME_FORMAT_URI, BINDING, NAMEID_FORMAT, NS, OIOSAML } from './constants.js';
import type { SamlSigningKey } from './ports.js';
import { escapeXml, samlInstant } from './xml/escape.js';
import { signEnveloped } from './xml/signEnveloped.js';

export interface IdpMetadataInput {
  entityId: string;
  /** SSO endpoint (the same URL may serve both bindings). */
  ssoUrls: { redirect: string; post?: string };
  /** SLO endpoint per binding, and where LogoutResponses are received when different. */
  sloUrls: { redirect: string; post: string; response?: string };
  /** PEM certificates: the one the IdP signs with now, the next one before a switch, the previous one after it. */
  signingCertificates: { active: string; next?: string; previous?: string };
  /** Attribute names the IdP releases (default: specVersion, loa, cvr, orgName). */
  attributes?: readonly string[];
  nameIdFormats?: readonly string[];
  organization?: { name: string; displayName: string; url: string; lang?: string };
  technicalContact?: { company?: string; email: string };
  validUntil?: Date;
}

export const DEFAULT_IDP_ATTRIBUTES: readonly string[] = [OIOSAML.specVersionName, OIOSAML.loaName, OIOSAML.cvrName, OIOSAML.orgNameName];

function certificateBody(pem: string): string {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new TypeError('not a PEM certificate');
  return body;
}

function keyDescriptor(pem: string): string {
  return `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
}

/** A stable xs:ID for the EntityDescriptor, derived from the entityID (as OS2faktor does). */
function descriptorId(entityId: string): string {
  return `_${createHash('sha256').update(entityId, 'utf8').digest('hex').slice(0, 32)}`;
}

/** The unsigned metadata document. */
export function buildIdpMetadata(input: IdpMetadataInput): string {
  const { active, next, previous } = input.signingCertificates;
  const certificates = [active, ...(next ? [next] : []), ...(previous ? [previous] : [])];
  const response = input.sloUrls.response ? ` ResponseLocation="${escapeXml(input.sloUrls.response)}"` : '';
  const sso = [`<md:SingleSignOnService Binding="${BINDING.redirect}" Location="${escapeXml(input.ssoUrls.redirect)}"/>`];
  if (input.ssoUrls.post) sso.push(`<md:SingleSignOnService Binding="${BINDING.post}" Location="${escapeXml(input.ssoUrls.post)}"/>`);
  const attributes = (input.attributes ?? DEFAULT_IDP_ATTRIBUTES)
    .map((name) => `<saml:Attribute Name="${escapeXml(name)}" NameFormat="${ATTRNAME_FORMAT_URI}"/>`)
    .join('');
  const org = input.organization;
  const lang = escapeXml(org?.lang ?? 'da');
  const organization = org
    ? `<md:Organization><md:OrganizationName xml:lang="${lang}">${escapeXml(org.name)}</md:OrganizationName>` +
      `<md:OrganizationDisplayName xml:lang="${lang}">${escapeXml(org.displayName)}</md:OrganizationDisplayName>` +
      `<md:OrganizationURL xml:lang="${lang}">${escapeXml(org.url)}</md:OrganizationURL></md:Organization>`
    : '';
  const contact = input.technicalContact
    ? `<md:ContactPerson contactType="technical">${input.technicalContact.company ? `<md:Company>${escapeXml(input.technicalContact.company)}</md:Company>` : ''}` +
      `<md:EmailAddress>mailto:${escapeXml(input.technicalContact.email)}</md:EmailAddress></md:ContactPerson>`
    : '';
  const validUntil = input.validUntil ? ` validUntil="${samlInstant(input.validUntil)}"` : '';
  return (
    `<md:EntityDescriptor xmlns:md="${NS.md}" xmlns:ds="${NS.ds}" xmlns:saml="${NS.saml}" ID="${descriptorId(input.entityId)}" entityID="${escapeXml(input.entityId)}"${validUntil}>` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="${NS.samlp}" WantAuthnRequestsSigned="true">` +
    certificates.map(keyDescriptor).join('') +
    `<md:SingleLogoutService Binding="${BINDING.redirect}" Location="${escapeXml(input.sloUrls.redirect)}"${response}/>` +
    `<md:SingleLogoutService Binding="${BINDING.post}" Location="${escapeXml(input.sloUrls.post)}"${response}/>` +
    (input.nameIdFormats ?? [NAMEID_FORMAT.persistent]).map((f) => `<md:NameIDFormat>${escapeXml(f)}</md:NameIDFormat>`).join('') +
    sso.join('') +
    attributes +
    '</md:IDPSSODescriptor>' +
    organization +
    contact +
    '</md:EntityDescriptor>'
  );
}

/** The metadata with an enveloped signature by the HSM key (ds:Signature first in the EntityDescriptor). */
export function signIdpMetadata(xml: string, key: SamlSigningKey): Promise<string> {
  return signEnveloped(xml, key, { rootLocalName: 'EntityDescriptor' });
}
