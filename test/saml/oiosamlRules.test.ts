/**
 * Every Response the module issues, checked against the SP-side rules of
 * OIOSAML.Java's AssertionValidationService (digst/OIOSAML.Java,
 * oiosaml/src/main/java/dk/gov/oio/saml/service/validation/AssertionValidationService.java),
 * kept here as data: one row per rule, with the method it comes from. The
 * SP side is done with the libraries an SP would use (xml-encryption to
 * decrypt, xml-crypto to verify the assertion signature with the IdP
 * certificate from metadata), not with our module. Deliberately broken
 * responses show that each rule can fail.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { AssuranceLevel } from '../../server/domain/types.js';
import {
  ALG,
  NAMEID_FORMAT,
  NS,
  OIOSAML,
  STATUS,
  type ServiceProvider,
  answerFor,
  chooseEncryption,
  isSamlError,
  issueAuthnResponse,
  receiveAuthnRequest,
} from '../../server/saml/index.js';
import { IDP_ENTITY_ID, type IdpKeys, MemoryReplayStore, SP_ENTITY_ID, SSO_URL, type TestSp, makeSp, openIdpKeys, rawQuery } from './support.js';

interface Decrypt {
  decrypt(xml: string, options: { key: string; disallowDecryptionWithInsecureAlgorithm?: boolean }, cb: (err: Error | null, result?: string) => void): void;
}
const xmlenc: Decrypt = createRequire(import.meta.url)('xml-encryption');

/** What an SP knows when it validates a Response. */
interface Ctx {
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
const RULES: readonly { rule: string; source: string; check: (ctx: Ctx) => boolean }[] = [
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
      return !!issuer && (!format || format === NAMEID_FORMAT.entity) && text(issuer) === IDP_ENTITY_ID;
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

async function spView(sp: TestSp, responseXml: string, request: { id: string; acsUrl: string; level?: AssuranceLevel }, idpCertificate: string): Promise<Ctx> {
  const response = new DOMParser().parseFromString(responseXml, 'text/xml').documentElement;
  const encrypted = one(one(response, NS.saml, 'EncryptedAssertion'), 'http://www.w3.org/2001/04/xmlenc#', 'EncryptedData');
  let assertionXml = '';
  if (encrypted) {
    assertionXml = await new Promise<string>((resolve, reject) =>
      xmlenc.decrypt(encrypted.toString(), { key: sp.encryption.privateKeyPem, disallowDecryptionWithInsecureAlgorithm: false }, (err, out) => (err || !out ? reject(err) : resolve(out))),
    );
  } else {
    const plain = one(response, NS.saml, 'Assertion');
    assertionXml = plain ? plain.toString() : '';
  }
  const assertion = assertionXml ? new DOMParser().parseFromString(assertionXml, 'text/xml').documentElement : undefined;
  return { response, assertion, assertionXml, idpCertificate, spEntityId: SP_ENTITY_ID, acsUrl: request.acsUrl, requestId: request.id, requestedLevel: request.level, now: new Date(), clockSkewMs: 60_000 };
}

function failing(ctx: Ctx): string[] {
  return RULES.filter((r) => !r.check(ctx)).map((r) => `${r.source}: ${r.rule}`);
}

let idp: IdpKeys;
before(async () => {
  idp = await openIdpKeys(1);
});
after(async () => idp?.close());

const NAMEID = 'https://data.gov.dk/model/core/eid/professional/uuid/5f1d5a43-7a36-4c1e-9b1a-2b8e6f3c0d11';

async function issueFor(sp: TestSp, level: AssuranceLevel, spRecord: ServiceProvider = sp.serviceProvider) {
  const key = idp.keys[0];
  if (!key) throw new Error('no key');
  const url = await sp.saml.getAuthorizeUrlAsync('', undefined, {});
  const request = await receiveAuthnRequest(
    {
      lookup: (id) => (id === SP_ENTITY_ID ? spRecord : undefined),
      replay: new MemoryReplayStore(),
      policy: { idpEntityId: IDP_ENTITY_ID, ssoUrls: { redirect: SSO_URL, post: SSO_URL }, idpLevel: 'high' },
      now: new Date(),
    },
    { binding: 'redirect', rawQuery: rawQuery(url) },
  );
  const issued = await issueAuthnResponse(key, {
    idpEntityId: IDP_ENTITY_ID,
    request: answerFor(request),
    serviceProvider: spRecord,
    now: new Date(),
    signIn: { nameId: { value: NAMEID }, level, authnInstant: new Date(), sessionIndex: '_sx', cvr: '12345674', orgName: 'Testkommune' },
  });
  return { request, issued, key };
}

test('NSIS 6 (Low) 2-3, (Substantial) 9-10 / OIOSAML 3: every issued Response passes every SP-side rule of OIOSAML.Java AssertionValidationService', async () => {
  for (const [requested, level] of [
    [OIOSAML.loaSubstantial, 'substantial'],
    [OIOSAML.loaLow, 'substantial'],
    [OIOSAML.loaHigh, 'high'],
  ] as const) {
    const sp = await makeSp([idp.keys[0]?.certificatePem ?? ''], { authnContext: [requested] });
    const { request, issued, key } = await issueFor(sp, level);
    const ctx = await spView(sp, issued.xml, { id: request.id, acsUrl: request.acs.location, level: request.minimumLevel }, key.certificatePem);
    assert.deepEqual(failing(ctx), [], `requested ${requested}`);
  }
  assert.equal(RULES.length, 21);
});

test('OIOSAML 3: a Response to an SP whose metadata asks for the legacy algorithms (AES-256-CBC, rsa-oaep-mgf1p) also passes every rule', async () => {
  const sp = await makeSp([idp.keys[0]?.certificatePem ?? '']);
  const legacy: ServiceProvider = { ...sp.serviceProvider, encryptionMethods: [ALG.aes256Cbc, ALG.rsaOaepMgf1p] };
  assert.deepEqual(chooseEncryption(legacy.encryptionMethods), { content: ALG.aes256Cbc, keyTransport: ALG.rsaOaepMgf1p });
  const { request, issued, key } = await issueFor(sp, 'substantial', legacy);
  assert.match(issued.xml, /xmlenc#aes256-cbc/);
  assert.match(issued.xml, /xmlenc#rsa-oaep-mgf1p/);
  const ctx = await spView(sp, issued.xml, { id: request.id, acsUrl: request.acs.location, level: request.minimumLevel }, key.certificatePem);
  assert.deepEqual(failing(ctx), []);
  // node-saml refuses AES-CBC by default (no integrity): the reason the legacy pair is used only on the SP's request.
  await assert.rejects(sp.saml.validatePostResponseAsync({ SAMLResponse: issued.form.fields.SAMLResponse ?? '' }), /not secure/);
});

test('OIOSAML 3: the rules table catches broken responses (each rule can fail)', async () => {
  const sp = await makeSp([idp.keys[0]?.certificatePem ?? ''], { authnContext: [OIOSAML.loaHigh] });
  const { request, issued, key } = await issueFor(sp, 'high');
  const base = await spView(sp, issued.xml, { id: request.id, acsUrl: request.acs.location, level: 'high' }, key.certificatePem);
  assert.deepEqual(failing(base), []);
  // A plain (unencrypted) copy of the assertion next to the encrypted one.
  const plain = await spView(sp, issued.xml.replace('</samlp:Response>', `${base.assertionXml}</samlp:Response>`), { id: request.id, acsUrl: request.acs.location, level: 'high' }, key.certificatePem);
  assert.ok(failing(plain).includes('validateResponse: no plain Assertion'));
  // The same assertion judged by an SP that asked for more than Substantial and got Substantial.
  const { issued: low } = await issueFor(sp, 'substantial');
  const lowCtx = await spView(sp, low.xml, { id: request.id, acsUrl: request.acs.location, level: 'high' }, key.certificatePem);
  assert.ok(failing(lowCtx).includes('validateAssurance: loa is a level name and at least the requested level'));
  // Another SP, another ACS, another certificate: audience, recipient, destination and signature rules fail.
  const other = { ...base, spEntityId: 'https://other.example.dk', acsUrl: 'https://other.example.dk/acs', idpCertificate: (await makeSp([])).signing.certificatePem };
  const failed = failing(other);
  for (const rule of ["an AudienceRestriction with the SP's entityID as Audience", 'Destination is the ACS URL', 'the Assertion is directly signed and verifies with the IdP signing certificate']) {
    assert.ok(failed.some((f) => f.endsWith(rule)), rule);
  }
  // Ten minutes later the times fail.
  const late = failing({ ...base, now: new Date(Date.now() + 11 * 60_000) });
  assert.ok(late.some((f) => f.includes('NotOnOrAfter')));
});

test('NSIS 6 (Low) 2 / OIOSAML 3: an assertion below the requested level is never issued (NoAuthnContext to the ACS)', async () => {
  const sp = await makeSp([idp.keys[0]?.certificatePem ?? ''], { authnContext: [OIOSAML.loaHigh] });
  const key = idp.keys[0];
  if (!key) throw new Error('no key');
  const url = await sp.saml.getAuthorizeUrlAsync('', undefined, {});
  const request = await receiveAuthnRequest(
    { lookup: () => sp.serviceProvider, replay: new MemoryReplayStore(), policy: { idpEntityId: IDP_ENTITY_ID, ssoUrls: { redirect: SSO_URL, post: SSO_URL }, idpLevel: 'high' }, now: new Date() },
    { binding: 'redirect', rawQuery: rawQuery(url) },
  );
  await assert.rejects(
    issueAuthnResponse(key, {
      idpEntityId: IDP_ENTITY_ID,
      request: answerFor(request),
      serviceProvider: sp.serviceProvider,
      now: new Date(),
      minimumLevel: request.minimumLevel,
      signIn: { nameId: { value: NAMEID }, level: 'substantial', authnInstant: new Date(), sessionIndex: '_s', cvr: '12345674', orgName: 'K' },
    }),
    (err) => isSamlError(err, 'SAML_NO_AUTHN_CONTEXT') && err.answerTo?.acsUrl === request.acs.location && err.status.second === STATUS.noAuthnContext,
  );
});
