/**
 * The OIOSAML 3 Assertion (unsigned) the IdP issues for one sign-in, with the
 * elements OS2faktor's AssertionService writes and OIOSAML.Java's
 * AssertionValidationService checks: Issuer (format entity); Subject with the
 * NameID and a bearer SubjectConfirmation (InResponseTo, Recipient = ACS,
 * NotOnOrAfter); Conditions (NotBefore, NotOnOrAfter, AudienceRestriction =
 * the SP); exactly one AuthnStatement (AuthnInstant = the key touch,
 * SessionIndex, AuthnContextClassRef); exactly one AttributeStatement with
 * URI-named attributes: specVersion, NSIS loa, cvr, orgName, extras.
 */
import { randomBytes } from 'node:crypto';
import type { AssuranceLevel } from '../domain/types.js';
import { ATTRNAME_FORMAT_URI, BEARER, NAMEID_FORMAT, NS, OIOSAML } from './constants.js';
import { loaName } from './levels.js';
import { escapeXml, samlInstant } from './xml/escape.js';

export interface SamlAttribute {
  /** URI name (NameFormat uri). */
  name: string;
  values: readonly string[];
}

export interface AssertionInput {
  idpEntityId: string;
  /** The SP's entityID: the Audience. */
  audience: string;
  /** The ACS URL: the Recipient. */
  recipient: string;
  inResponseTo: string;
  issueInstant: Date;
  /** When the person touched the key (the authentication event). */
  authnInstant: Date;
  /** Identifies the gateway session at this SP (for single logout). */
  sessionIndex: string;
  nameId: { value: string; format?: string };
  /** The NSIS level asserted: the minimum of IAL, AAL and the broker's level. */
  level: AssuranceLevel;
  /** 8 digits. */
  cvr: string;
  orgName: string;
  extraAttributes?: readonly SamlAttribute[];
  /** Default https://data.gov.dk/concept/core/nsis. */
  authnContextClassRef?: string;
  /** SubjectConfirmationData NotOnOrAfter, seconds after issueInstant (default 300). */
  confirmationSeconds?: number;
  /** Conditions NotOnOrAfter, seconds after issueInstant (default 600). */
  conditionsSeconds?: number;
  /** Assertion ID; default random. */
  id?: string;
}

/** A fresh xs:ID: "_" + 32 hex characters (saml-core 1.3.4: 128 bits at least). */
export function newSamlId(): string {
  return `_${randomBytes(16).toString('hex')}`;
}

function attributeXml(attribute: SamlAttribute): string {
  const values = attribute.values.map((v) => `<saml:AttributeValue>${escapeXml(v)}</saml:AttributeValue>`).join('');
  return `<saml:Attribute Name="${escapeXml(attribute.name)}" NameFormat="${ATTRNAME_FORMAT_URI}">${values}</saml:Attribute>`;
}

/** The attributes released, in document order (the broker log records the same list). */
export function assertionAttributes(input: AssertionInput): SamlAttribute[] {
  if (!/^\d{8}$/.test(input.cvr)) throw new TypeError('cvr must be 8 digits');
  if (!input.orgName.trim()) throw new TypeError('orgName must not be empty');
  const reserved = new Set<string>([OIOSAML.specVersionName, OIOSAML.loaName, OIOSAML.cvrName, OIOSAML.orgNameName]);
  for (const extra of input.extraAttributes ?? []) {
    if (reserved.has(extra.name)) throw new TypeError(`${extra.name} is set by the IdP and cannot be an extra attribute`);
  }
  return [
    { name: OIOSAML.specVersionName, values: [OIOSAML.specVersion] },
    { name: OIOSAML.loaName, values: [loaName(input.level)] },
    { name: OIOSAML.cvrName, values: [input.cvr] },
    { name: OIOSAML.orgNameName, values: [input.orgName] },
    ...(input.extraAttributes ?? []),
  ];
}

/** The unsigned Assertion XML and its ID. */
export function buildAssertion(input: AssertionInput): { id: string; xml: string; attributes: SamlAttribute[] } {
  const id = input.id ?? newSamlId();
  const issued = input.issueInstant.getTime();
  const confirmationEnd = new Date(issued + (input.confirmationSeconds ?? 300) * 1000);
  const conditionsEnd = new Date(issued + (input.conditionsSeconds ?? 600) * 1000);
  const attributes = assertionAttributes(input);
  const xml =
    `<saml:Assertion xmlns:saml="${NS.saml}" ID="${escapeXml(id)}" Version="2.0" IssueInstant="${samlInstant(input.issueInstant)}">` +
    `<saml:Issuer Format="${NAMEID_FORMAT.entity}">${escapeXml(input.idpEntityId)}</saml:Issuer>` +
    '<saml:Subject>' +
    `<saml:NameID Format="${escapeXml(input.nameId.format ?? NAMEID_FORMAT.persistent)}">${escapeXml(input.nameId.value)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="${BEARER}">` +
    `<saml:SubjectConfirmationData InResponseTo="${escapeXml(input.inResponseTo)}" NotOnOrAfter="${samlInstant(confirmationEnd)}" Recipient="${escapeXml(input.recipient)}"/>` +
    '</saml:SubjectConfirmation>' +
    '</saml:Subject>' +
    `<saml:Conditions NotBefore="${samlInstant(input.issueInstant)}" NotOnOrAfter="${samlInstant(conditionsEnd)}">` +
    `<saml:AudienceRestriction><saml:Audience>${escapeXml(input.audience)}</saml:Audience></saml:AudienceRestriction>` +
    '</saml:Conditions>' +
    `<saml:AuthnStatement AuthnInstant="${samlInstant(input.authnInstant)}" SessionIndex="${escapeXml(input.sessionIndex)}">` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>${escapeXml(input.authnContextClassRef ?? OIOSAML.nsisContextClass)}</saml:AuthnContextClassRef></saml:AuthnContext>` +
    '</saml:AuthnStatement>' +
    `<saml:AttributeStatement>${attributes.map(attributeXml).join('')}</saml:AttributeStatement>` +
    '</saml:Assertion>';
  return { id, xml, attributes };
}
