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
import { after, before, test } from 'node:test';
import type { AssuranceLevel } from '../../server/domain/types.js';
import {
  ALG,
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
import { failing, RULES, spView } from './oiosamlRules.js';
import { IDP_ENTITY_ID, type IdpKeys, MemoryReplayStore, SP_ENTITY_ID, SSO_URL, type TestSp, makeSp, openIdpKeys, rawQuery } from './support.js';

const viewOf = (sp: TestSp) => ({ decryptionKeyPem: sp.encryption.privateKeyPem, entityId: SP_ENTITY_ID, idpEntityId: IDP_ENTITY_ID });

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
    const ctx = await spView(viewOf(sp), issued.xml, { id: request.id, acsUrl: request.acs.location, level: request.minimumLevel }, key.certificatePem);
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
  const ctx = await spView(viewOf(sp), issued.xml, { id: request.id, acsUrl: request.acs.location, level: request.minimumLevel }, key.certificatePem);
  assert.deepEqual(failing(ctx), []);
  // node-saml refuses AES-CBC by default (no integrity): the reason the legacy pair is used only on the SP's request.
  await assert.rejects(sp.saml.validatePostResponseAsync({ SAMLResponse: issued.form.fields.SAMLResponse ?? '' }), /not secure/);
});

test('OIOSAML 3: the rules table catches broken responses (each rule can fail)', async () => {
  const sp = await makeSp([idp.keys[0]?.certificatePem ?? ''], { authnContext: [OIOSAML.loaHigh] });
  const { request, issued, key } = await issueFor(sp, 'high');
  const base = await spView(viewOf(sp), issued.xml, { id: request.id, acsUrl: request.acs.location, level: 'high' }, key.certificatePem);
  assert.deepEqual(failing(base), []);
  // A plain (unencrypted) copy of the assertion next to the encrypted one.
  const plain = await spView(viewOf(sp), issued.xml.replace('</samlp:Response>', `${base.assertionXml}</samlp:Response>`), { id: request.id, acsUrl: request.acs.location, level: 'high' }, key.certificatePem);
  assert.ok(failing(plain).includes('validateResponse: no plain Assertion'));
  // The same assertion judged by an SP that asked for more than Substantial and got Substantial.
  const { issued: low } = await issueFor(sp, 'substantial');
  const lowCtx = await spView(viewOf(sp), low.xml, { id: request.id, acsUrl: request.acs.location, level: 'high' }, key.certificatePem);
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
