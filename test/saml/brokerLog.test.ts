/**
 * The broker log (NSIS 6 (Low) 7: all requests to the broker and all its
 * responses are written to an integrity-protected log): the audit fields of
 * each SAML message, the assertion's SHA-256 and never the decrypted
 * assertion. The hash is checked against what the SP decrypts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import {
  OIOSAML,
  STATUS,
  type SamlSigningKey,
  answerFor,
  answerRefusal,
  isSamlError,
  issueAuthnResponse,
  receiveAuthnRequest,
  refusalLogEntry,
} from '../../server/saml/index.js';
import { authnRequestXml, signRedirect } from './craft.js';
import { IDP_ENTITY_ID, type IdpKeys, MemoryReplayStore, SP_ENTITY_ID, SSO_URL, type TestSp, makeSp, openIdpKeys, rawQuery } from './support.js';

interface Decrypt {
  decrypt(xml: string, options: { key: string }, cb: (err: Error | null, result?: string) => void): void;
}
const xmlenc: Decrypt = createRequire(import.meta.url)('xml-encryption');

let idp: IdpKeys;
let sp: TestSp;
let key: SamlSigningKey;
before(async () => {
  idp = await openIdpKeys(1);
  key = idp.keys[0] as SamlSigningKey;
  sp = await makeSp([key.certificatePem]);
});
after(async () => idp?.close());

const deps = () => ({
  lookup: (id: string) => (id === SP_ENTITY_ID ? sp.serviceProvider : undefined),
  replay: new MemoryReplayStore(),
  policy: { idpEntityId: IDP_ENTITY_ID, ssoUrls: { redirect: SSO_URL, post: SSO_URL }, idpLevel: 'substantial' as const },
  now: new Date(),
});

test('NSIS 6 (Low) 7: the broker log of a Response has IDs, issuer, destination, status, the attributes released and the SHA-256 of the assertion, never the assertion', async () => {
  const url = await sp.saml.getAuthorizeUrlAsync('', undefined, {});
  const request = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: rawQuery(url) });
  assert.deepEqual(request.log, {
    kind: 'AuthnRequest',
    direction: 'in',
    id: request.id,
    issuer: SP_ENTITY_ID,
    destination: SSO_URL,
    binding: 'redirect',
    signatureCertificateSha256: request.signatureCertificateSha256,
  });
  const issued = await issueAuthnResponse(key, {
    idpEntityId: IDP_ENTITY_ID,
    request: answerFor(request),
    serviceProvider: sp.serviceProvider,
    now: new Date(),
    signIn: {
      nameId: { value: 'employee-42@kommune' },
      level: 'substantial',
      authnInstant: new Date(),
      sessionIndex: '_sess-42',
      cvr: '12345674',
      orgName: 'Testkommune',
      extraAttributes: [{ name: 'https://data.gov.dk/model/core/eid/privilegesIntermediate', values: ['PHByaXZz'] }],
    },
  });
  const { log } = issued;
  const response = new DOMParser().parseFromString(issued.xml, 'text/xml').documentElement;
  assert.equal(log.kind, 'Response');
  assert.equal(log.direction, 'out');
  assert.equal(log.id, response.getAttribute('ID'));
  assert.equal(log.inResponseTo, request.id);
  assert.equal(log.issuer, IDP_ENTITY_ID);
  assert.equal(log.destination, request.acs.location);
  assert.deepEqual(log.status, { top: STATUS.success });
  assert.equal(log.nameId, 'employee-42@kommune');
  assert.equal(log.sessionIndex, '_sess-42');
  assert.deepEqual(
    log.attributes?.map((a) => a.name),
    [OIOSAML.specVersionName, OIOSAML.loaName, OIOSAML.cvrName, OIOSAML.orgNameName, 'https://data.gov.dk/model/core/eid/privilegesIntermediate'],
  );
  assert.deepEqual(log.attributes?.find((a) => a.name === OIOSAML.loaName)?.values, ['Substantial']);
  // The hash is that of the signed assertion the SP decrypts.
  const encrypted = response.getElementsByTagNameNS('http://www.w3.org/2001/04/xmlenc#', 'EncryptedData').item(0);
  const decrypted = await new Promise<string>((resolve, reject) =>
    xmlenc.decrypt(encrypted?.toString() ?? '', { key: sp.encryption.privateKeyPem }, (err, out) => (err || !out ? reject(err) : resolve(out))),
  );
  assert.equal(log.assertionSha256, createHash('sha256').update(decrypted, 'utf8').digest('hex'));
  const assertionId = new DOMParser().parseFromString(decrypted, 'text/xml').documentElement.getAttribute('ID');
  assert.equal(log.assertionId, assertionId);
  // Never the assertion itself, nor any XML.
  const serialized = JSON.stringify(log);
  assert.doesNotMatch(serialized, /</);
  assert.doesNotMatch(serialized, /SignatureValue|X509Certificate/);
  assert.ok(!serialized.includes(decrypted.slice(0, 60)));
});

test('NSIS 6 (Low) 7: a refused AuthnRequest has a broker-log entry with its code and status; an answerable refusal also logs the Response sent', async () => {
  const stale = signRedirect(authnRequestXml({ issueInstant: new Date(Date.now() - 3600_000), id: '_stale' }), sp.signing.privateKeyPem);
  const err = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: stale }).then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(isSamlError(err, 'SAML_REQUEST_EXPIRED'));
  const entry = refusalLogEntry('AuthnRequest', err, 'redirect');
  assert.deepEqual(entry, { kind: 'AuthnRequest', direction: 'in', refusal: 'SAML_REQUEST_EXPIRED', status: err.status, binding: 'redirect', id: '_stale', issuer: SP_ENTITY_ID });
  const answer = answerRefusal(IDP_ENTITY_ID, err, new Date());
  assert.equal(answer?.log.inResponseTo, '_stale');
  assert.deepEqual(answer?.log.status, { top: STATUS.requester, second: STATUS.requestDenied });
  // An unauthentic request is logged without answer.
  const forged = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: rawQuery(await sp.saml.getAuthorizeUrlAsync('', undefined, {})).replace(/Signature=[^&]+/, 'Signature=AAAA') }).then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(isSamlError(forged, 'SAML_SIGNATURE_INVALID'));
  assert.equal(answerRefusal(IDP_ENTITY_ID, forged, new Date()), undefined);
  assert.deepEqual(refusalLogEntry('AuthnRequest', forged), { kind: 'AuthnRequest', direction: 'in', refusal: 'SAML_SIGNATURE_INVALID', status: forged.status });
});
