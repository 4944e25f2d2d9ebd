/**
 * The SP-side rules of OIOSAML.Java's AssertionValidationService
 * (digst/OIOSAML.Java, oiosaml/src/main/java/dk/gov/oio/saml/service/validation/AssertionValidationService.java)
 * kept as data, and the SP's view of a Response (decrypted with xml-encryption, the assertion's
 * signature checked with xml-crypto): shared by the module's tests (oiosamlRules.test.ts) and the
 * running gateway's (test/saml-gateway/sso.test.ts).
 */
import { createRequire } from 'node:module';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { AssuranceLevel } from '../../server/domain/types.js';
import { ALG, NAMEID_FORMAT, NS, OIOSAML, STATUS } from '../../server/saml/index.js';

interface Decrypt {
  decrypt(xml: string, options: { key: string; disallowDecryptionWithInsecureAlgorithm?: boolean }, cb: (err: Error | null, result?: string) => void): void;
}
const xmlenc: Decrypt = createRequire(import.meta.url)('xml-encryption');

/** What an SP knows when it validates a Response. */
export interface Ctx {
  idpEntityId: string;
  response: Element;
  assertion: Element | undefined;
  assertionXml: string;
  idpCertificate: string;
  spEntityId: string;
  acsUrl: string;
  requestId: string;
  requestedLevel: AssuranceLevel | undefined;
  now: Date;
  clockSkewMs: number;
}

const LEVELS: Record<string, number> = { Low: 0, Substantial: 1, High: 2 };
const REQUESTED: Record<AssuranceLevel, number> = { low: 0, substantial: 1, high: 2 };

const el = (parent: Element | undefined, ns: string, name: string): Element[] =>
  parent ? Array.from(parent.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === name) : [];
const one = (parent: Element | undefined, ns: string, name: string): Element | undefined => el(parent, ns, name)[0];
const text = (e: Element | undefined): string => (e?.textContent ?? '').trim();

function attributes(ctx: Ctx): Map<string, string> {
  const map = new Map<string, string>();
  for (const a of el(one(ctx.assertion, NS.saml, 'AttributeStatement'), NS.saml, 'Attribute')) map.set(a.getAttribute('Name') ?? '', text(one(a, NS.saml, 'AttributeValue')));
  return map;
}

/** The rules, as AssertionValidationService applies them (method names in `source`). */
export const RULES: readonly { rule: string; source: string; check: (ctx: Ctx) => boolean }[] = [
  { rule: 'Destination is the ACS URL', source: 'validateDestination', check: (c) => c.response.getAttribute('Destination') === c.acsUrl },
  { rule: 'Response IssueInstant within clock skew', source: 'validateLifetime', check: (c) => new Date(c.response.getAttribute('IssueInstant') ?? 0).getTime() >= c.now.getTime() - c.clockSkewMs },
  { rule: 'Status is Success', source: 'validateStatus', check: (c) => one(one(c.response, NS.samlp, 'Status'), NS.samlp, 'StatusCode')?.getAttribute('Value') === STATUS.success },
  { rule: 'InResponseTo is the AuthnRequest ID', source: 'validateInResponseTo', check: (c) => c.response.getAttribute('InResponseTo') === c.requestId },
  { rule: 'the Response is not directly signed', source: 'validateResponse (SHOULD NOT)', check: (c) => el(c.response, NS.ds, 'Signature').length === 0 },
  { rule: 'no plain Assertion', source: 'validateResponse', check: (c) => el(c.response, NS.saml, 'Assertion').length === 0 },
  { rule: 'exactly one EncryptedAssertion', source: 'validateResponse', check: (c) => el(c.response, NS.saml, 'EncryptedAssertion').length === 1 },
  {
    rule: 'the Assertion is directly signed and verifies with the IdP signing certificate',
    source: 'validateSignature / validateAssertion',
    check: (c) => {
      if (!c.assertion || el(c.assertion, NS.ds, 'Signature').length !== 1) return false;
      const sig = new SignedXml({ publicCert: c.idpCertificate, getCertFromKeyInfo: () => null });
      sig.loadSignature(el(c.assertion, NS.ds, 'Signature')[0] as Element);
      try {
        return sig.checkSignature(c.assertionXml);
      } catch {
        return false;
      }
    },
  },
  {
    rule: 'Assertion IssueInstant within clock skew',
    source: 'validateLifetime',
    check: (c) => new Date(c.assertion?.getAttribute('IssueInstant') ?? 0).getTime() >= c.now.getTime() - c.clockSkewMs,
  },
  {
    rule: 'Issuer present, Format omitted or entity, value = IdP entityID',
    source: 'validateIssuer',
    check: (c) => {
      const issuer = one(c.assertion, NS.saml, 'Issuer');
      const format = issuer?.getAttribute('Format');
      return !!issuer && (!format || format === NAMEID_FORMAT.entity) && text(issuer) === c.idpEntityId;
    },
  },
  {
    rule: 'Subject with a NameID of format transient or persistent',
    source: 'validateSubject',
    check: (c) => {
      const format = one(one(c.assertion, NS.saml, 'Subject'), NS.saml, 'NameID')?.getAttribute('Format');
      return format === NAMEID_FORMAT.persistent || format === NAMEID_FORMAT.transient;
    },
  },
  {
    rule: 'NameID https://data.gov.dk/model/core/eid/... ending in a UUID',
    source: 'validateSubject',
    check: (c) => /^https:\/\/data\.gov\.dk\/model\/core\/eid\/.*\/uuid\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text(one(one(c.assertion, NS.saml, 'Subject'), NS.saml, 'NameID'))),
  },
  {
    rule: 'a bearer SubjectConfirmation whose data has Recipient = ACS and a future NotOnOrAfter',
    source: 'validateSubject',
    check: (c) => {
      const sc = el(one(c.assertion, NS.saml, 'Subject'), NS.saml, 'SubjectConfirmation').find((s) => s.getAttribute('Method') === 'urn:oasis:names:tc:SAML:2.0:cm:bearer');
      const data = one(sc, NS.saml, 'SubjectConfirmationData');
      const notOnOrAfter = data?.getAttribute('NotOnOrAfter');
      return !!data && data.getAttribute('Recipient') === c.acsUrl && !!notOnOrAfter && new Date(notOnOrAfter).getTime() + c.clockSkewMs > c.now.getTime();
    },
  },
  {
    rule: 'Conditions NotBefore reached and NotOnOrAfter not passed (with skew)',
    source: 'validateLifetime',
    check: (c) => {
      const cond = one(c.assertion, NS.saml, 'Conditions');
      const nb = new Date(cond?.getAttribute('NotBefore') ?? 0).getTime();
      const noa = new Date(cond?.getAttribute('NotOnOrAfter') ?? 0).getTime();
      return !!cond && nb < c.now.getTime() + c.clockSkewMs && c.now.getTime() - c.clockSkewMs < noa;
    },
  },
  {
    rule: "an AudienceRestriction with the SP's entityID as Audience",
    source: 'validateAudienceRestriction',
    check: (c) => el(one(c.assertion, NS.saml, 'Conditions'), NS.saml, 'AudienceRestriction').some((r) => el(r, NS.saml, 'Audience').some((a) => text(a) === c.spEntityId)),
  },
  { rule: 'exactly one AuthnStatement', source: 'validateAssertion', check: (c) => el(c.assertion, NS.saml, 'AuthnStatement').length === 1 },
  { rule: 'exactly one AttributeStatement', source: 'validateAssertion', check: (c) => el(c.assertion, NS.saml, 'AttributeStatement').length === 1 },
  { rule: 'specVersion = OIO-SAML-3.0', source: 'validateAttributeStatement', check: (c) => attributes(c).get(OIOSAML.specVersionName) === 'OIO-SAML-3.0' },
  { rule: 'professional: cvr matches ^\\d{8}$', source: 'validateAttributeStatement', check: (c) => /^\d{8}$/.test(attributes(c).get(OIOSAML.cvrName) ?? '') },
  { rule: 'professional: orgName present', source: 'validateAttributeStatement', check: (c) => (attributes(c).get(OIOSAML.orgNameName) ?? '') !== '' },
  {
    rule: 'loa is a level name and at least the requested level',
    source: 'validateAssurance',
    check: (c) => {
      const loa = attributes(c).get(OIOSAML.loaName) ?? '';
      return loa in LEVELS && (c.requestedLevel === undefined || (LEVELS[loa] ?? -1) >= REQUESTED[c.requestedLevel]);
    },
  },
];

export async function spView(sp: { decryptionKeyPem: string; entityId: string; idpEntityId: string }, responseXml: string, request: { id: string; acsUrl: string; level?: AssuranceLevel }, idpCertificate: string): Promise<Ctx> {
  const response = new DOMParser().parseFromString(responseXml, 'text/xml').documentElement;
  const encrypted = one(one(response, NS.saml, 'EncryptedAssertion'), 'http://www.w3.org/2001/04/xmlenc#', 'EncryptedData');
  let assertionXml = '';
  if (encrypted) {
    assertionXml = await new Promise<string>((resolve, reject) =>
      xmlenc.decrypt(encrypted.toString(), { key: sp.decryptionKeyPem, disallowDecryptionWithInsecureAlgorithm: false }, (err, out) => (err || !out ? reject(err) : resolve(out))),
    );
  } else {
    const plain = one(response, NS.saml, 'Assertion');
    assertionXml = plain ? plain.toString() : '';
  }
  const assertion = assertionXml ? new DOMParser().parseFromString(assertionXml, 'text/xml').documentElement : undefined;
  return { idpEntityId: sp.idpEntityId, response, assertion, assertionXml, idpCertificate, spEntityId: sp.entityId, acsUrl: request.acsUrl, requestId: request.id, requestedLevel: request.level, now: new Date(), clockSkewMs: 60_000 };
}

export function failing(ctx: Ctx): string[] {
  return RULES.filter((r) => !r.check(ctx)).map((r) => `${r.source}: ${r.rule}`);
}

