/**
 * Metadata both ways, and the signing-key rollover at the protocol level:
 * SP metadata parsed and validated (also signed metadata against a trust
 * anchor), IdP metadata generated with the active and next certificates
 * (and optionally signed by the HSM key), and an independent SP (node-saml)
 * that takes its IdP certificates from our metadata validating assertions
 * signed by either key before the switch, and refusing the old key's once
 * the old certificate is removed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import {
  ALG,
  BINDING,
  NAMEID_FORMAT,
  NS,
  OIOSAML,
  type SamlSigningKey,
  answerFor,
  buildIdpMetadata,
  isSamlError,
  issueAuthnResponse,
  parseSpMetadata,
  receiveAuthnRequest,
  signIdpMetadata,
} from '../../server/saml/index.js';
import { verifyEnveloped } from '../../server/saml/xml/verifyEnveloped.js';
import { parseXml } from '../../server/saml/xml/parse.js';
import { signPost } from './craft.js';
import { ACS_URL, IDP_ENTITY_ID, type IdpKeys, MemoryReplayStore, SLO_URL, SP_ENTITY_ID, SSO_URL, type TestSp, makeSp, openIdpKeys, rawQuery, softwareKey } from './support.js';

let idp: IdpKeys;
let sp: TestSp;
before(async () => {
  idp = await openIdpKeys(2);
  sp = await makeSp([]);
});
after(async () => idp?.close());

const keyA = (): SamlSigningKey => idp.keys[0] as SamlSigningKey;
const keyB = (): SamlSigningKey => idp.keys[1] as SamlSigningKey;

function metadataFor(active: SamlSigningKey, next?: SamlSigningKey, previous?: SamlSigningKey): string {
  return buildIdpMetadata({
    entityId: IDP_ENTITY_ID,
    ssoUrls: { redirect: SSO_URL, post: SSO_URL },
    sloUrls: { redirect: SLO_URL, post: SLO_URL },
    signingCertificates: { active: active.certificatePem, ...(next ? { next: next.certificatePem } : {}), ...(previous ? { previous: previous.certificatePem } : {}) },
    organization: { name: 'Testkommune', displayName: 'Testkommune', url: 'https://kommune.example.dk' },
    technicalContact: { email: 'it@kommune.example.dk' },
  });
}

/** What an SP reads from IdP metadata: the signing certificates, as PEM. */
function certificatesIn(metadataXml: string): string[] {
  const doc = new DOMParser().parseFromString(metadataXml, 'text/xml');
  return Array.from(doc.getElementsByTagNameNS(NS.ds, 'X509Certificate')).map(
    (c) => `-----BEGIN CERTIFICATE-----\n${(c.textContent ?? '').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`,
  );
}

test('OIOSAML 3 SP metadata: node-saml metadata is parsed into a typed SP record (ACS, SLO, certificates, EncryptionMethod, NameIDFormat)', async () => {
  const { serviceProvider: record, warnings } = parseSpMetadata(sp.metadataXml, { now: new Date() });
  assert.equal(record.entityId, SP_ENTITY_ID);
  assert.deepEqual(record.assertionConsumerServices.map((a) => [a.binding, a.location]), [[BINDING.post, ACS_URL]]);
  assert.equal(record.singleLogoutServices[0]?.binding, BINDING.post);
  assert.equal(record.signingCertificates.length, 1);
  assert.equal(record.encryptionCertificates.length, 1);
  assert.equal(record.encryptionMethods[0], ALG.aes256Gcm);
  assert.deepEqual(record.nameIdFormats, [NAMEID_FORMAT.persistent]);
  assert.equal(record.authnRequestsSigned, true);
  assert.equal(record.metadataSignatureVerified, false);
  assert.match(record.metadataSha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(warnings, []);
});

test('OIOSAML 3 SP metadata: signed metadata is checked against the trust anchor; a changed or wrongly signed file is refused', async () => {
  const anchor = await softwareKey('Metadata signer');
  const other = await softwareKey('Not the anchor');
  // saml-metadata 2.3.2: the signature is the first child of EntityDescriptor.
  const signedFirst = signPost(sp.metadataXml.replace(/^<\?xml[^>]*>/, ''), anchor.privateKeyPem, 'EntityDescriptor', true);
  const ok = parseSpMetadata(signedFirst, { now: new Date(), signatureCertificates: [anchor.certificatePem], requireSignature: true });
  assert.equal(ok.serviceProvider.metadataSignatureVerified, true);
  assert.throws(
    () => parseSpMetadata(signedFirst.replace(ACS_URL, 'https://evil.example/acs'), { now: new Date(), signatureCertificates: [anchor.certificatePem] }),
    (err) => isSamlError(err, 'SAML_METADATA_SIGNATURE_INVALID'),
  );
  assert.throws(() => parseSpMetadata(signedFirst, { now: new Date(), signatureCertificates: [other.certificatePem] }), (err) => isSamlError(err, 'SAML_METADATA_SIGNATURE_INVALID'));
  assert.throws(() => parseSpMetadata(sp.metadataXml, { now: new Date(), signatureCertificates: [anchor.certificatePem], requireSignature: true }), (err) =>
    isSamlError(err, 'SAML_METADATA_SIGNATURE_INVALID'),
  );
  const unchecked = parseSpMetadata(signedFirst, { now: new Date() });
  assert.match(unchecked.warnings.join(' '), /not checked/);
});

test('OIOSAML 3 SP metadata: unusable metadata is refused (SAML_METADATA_INVALID)', () => {
  const now = new Date();
  const cases: [string, string][] = [
    ['no encryption certificate', sp.metadataXml.replace(/<KeyDescriptor use="encryption">[\s\S]*?<\/KeyDescriptor>/, '')],
    ['no signing certificate', sp.metadataXml.replace(/<KeyDescriptor use="signing">[\s\S]*?<\/KeyDescriptor>/, '')],
    ['expired validUntil', sp.metadataXml.replace('<EntityDescriptor ', '<EntityDescriptor validUntil="2020-01-01T00:00:00Z" ')],
    ['no POST ACS', sp.metadataXml.replace(BINDING.post + '" Location="' + ACS_URL, BINDING.redirect + '" Location="' + ACS_URL)],
    ['not an EntityDescriptor', '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>'],
    ['a broken certificate', sp.metadataXml.replace(/<ds:X509Certificate>[A-Za-z0-9+/]{20}/, '<ds:X509Certificate>AAAA')],
  ];
  for (const [what, xml] of cases) {
    assert.notEqual(xml, sp.metadataXml, what);
    assert.throws(() => parseSpMetadata(xml, { now }), (err) => isSamlError(err, 'SAML_METADATA_INVALID'), what);
  }
  assert.throws(() => parseSpMetadata('<!DOCTYPE x []><x/>', { now }), (err) => isSamlError(err, 'SAML_XML_FORBIDDEN_CONSTRUCT'));
});

test('OIOSAML 3 IdP metadata: WantAuthnRequestsSigned, active and next signing certificates, SSO Redirect+POST, SLO Redirect+POST, NameIDFormat persistent, attributes', () => {
  const xml = metadataFor(keyA(), keyB());
  const root = parseXml(xml).documentElement;
  assert.equal(root.getAttribute('entityID'), IDP_ENTITY_ID);
  const idpSso = root.getElementsByTagNameNS(NS.md, 'IDPSSODescriptor').item(0);
  assert.equal(idpSso?.getAttribute('WantAuthnRequestsSigned'), 'true');
  assert.deepEqual(certificatesIn(xml).length, 2);
  const bindings = (name: string) => Array.from(root.getElementsByTagNameNS(NS.md, name)).map((e) => e.getAttribute('Binding'));
  assert.deepEqual(bindings('SingleSignOnService'), [BINDING.redirect, BINDING.post]);
  assert.deepEqual(bindings('SingleLogoutService'), [BINDING.redirect, BINDING.post]);
  assert.equal(root.getElementsByTagNameNS(NS.md, 'NameIDFormat').item(0)?.textContent, NAMEID_FORMAT.persistent);
  const attributes = Array.from(root.getElementsByTagNameNS(NS.saml, 'Attribute')).map((a) => a.getAttribute('Name'));
  assert.deepEqual(attributes, [OIOSAML.specVersionName, OIOSAML.loaName, OIOSAML.cvrName, OIOSAML.orgNameName]);
  assert.equal(certificatesIn(metadataFor(keyA())).length, 1);
});

test('NSIS 6 (Low) 4 / OIOSAML 3 IdP metadata: optionally signed by the HSM key; the signature verifies with the active certificate', async () => {
  const signed = await signIdpMetadata(metadataFor(keyA(), keyB()), keyA());
  const doc = parseXml(signed);
  const verified = verifyEnveloped(signed, doc, { ns: NS.md, localName: 'EntityDescriptor' }, [keyA().certificatePem]);
  assert.equal(verified.element.getAttribute('entityID'), IDP_ENTITY_ID);
  assert.throws(() => verifyEnveloped(signed, parseXml(signed), { ns: NS.md, localName: 'EntityDescriptor' }, [keyB().certificatePem]), (err) => isSamlError(err, 'SAML_SIGNATURE_INVALID'));
});

async function responseSignedBy(key: SamlSigningKey, spSaml: SAML, record = sp.serviceProvider) {
  const url = await spSaml.getAuthorizeUrlAsync('', undefined, {});
  const request = await receiveAuthnRequest(
    { lookup: () => record, replay: new MemoryReplayStore(), policy: { idpEntityId: IDP_ENTITY_ID, ssoUrls: { redirect: SSO_URL, post: SSO_URL }, idpLevel: 'substantial' }, now: new Date() },
    { binding: 'redirect', rawQuery: rawQuery(url) },
  );
  const issued = await issueAuthnResponse(key, {
    idpEntityId: IDP_ENTITY_ID,
    request: answerFor(request),
    serviceProvider: record,
    now: new Date(),
    signIn: { nameId: { value: 'rollover@kommune' }, level: 'substantial', authnInstant: new Date(), sessionIndex: '_r', cvr: '12345674', orgName: 'Testkommune' },
  });
  return issued.form.fields.SAMLResponse ?? '';
}

function spTrusting(metadataXml: string): SAML {
  return new SAML({
    entryPoint: SSO_URL,
    issuer: SP_ENTITY_ID,
    callbackUrl: ACS_URL,
    idpCert: certificatesIn(metadataXml),
    idpIssuer: IDP_ENTITY_ID,
    audience: SP_ENTITY_ID,
    privateKey: sp.signing.privateKeyPem,
    publicCert: sp.signing.certificatePem,
    decryptionPvk: sp.encryption.privateKeyPem,
    signatureAlgorithm: 'sha256',
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    authnContext: [OIOSAML.loaSubstantial],
    identifierFormat: NAMEID_FORMAT.persistent,
  });
}

test('NSIS 6 (Low) 4 / OIOSAML 3 key rollover: with metadata carrying both certificates, assertions signed by the old and by the new HSM key validate; after the old certificate is removed, the old key is refused', async () => {
  // Step 1: metadata with the active (A) and the next (B) certificate is uploaded.
  const both = spTrusting(metadataFor(keyA(), keyB()));
  const beforeSwitch = await both.validatePostResponseAsync({ SAMLResponse: await responseSignedBy(keyA(), both) });
  assert.equal(beforeSwitch.profile?.nameID, 'rollover@kommune');
  // Step 2: the IdP switches to B; the SP still has the same metadata.
  const afterSwitch = await both.validatePostResponseAsync({ SAMLResponse: await responseSignedBy(keyB(), both) });
  assert.equal(afterSwitch.profile?.nameID, 'rollover@kommune');
  // Step 2 (upload): metadata {active: B, previous: A}: B is listed first for SPs that use the first certificate only.
  const switched = metadataFor(keyB(), undefined, keyA());
  assert.deepEqual(certificatesIn(switched), [keyB().certificatePem, keyA().certificatePem].map((p) => certificatesIn(metadataFor({ certificatePem: p, sign: keyA().sign }))[0]));
  const afterUpload = spTrusting(switched);
  assert.equal((await afterUpload.validatePostResponseAsync({ SAMLResponse: await responseSignedBy(keyB(), afterUpload) })).profile?.nameID, 'rollover@kommune');
  // Step 3: metadata with B only is uploaded; an assertion signed by A is refused, B's is accepted.
  const onlyB = spTrusting(metadataFor(keyB()));
  await assert.rejects(onlyB.validatePostResponseAsync({ SAMLResponse: await responseSignedBy(keyA(), onlyB) }), /signature/i);
  const final = await onlyB.validatePostResponseAsync({ SAMLResponse: await responseSignedBy(keyB(), onlyB) });
  assert.equal(final.profile?.nameID, 'rollover@kommune');
});
