/**
 * End to end against an independent SP, @node-saml/node-saml 5: its signed
 * AuthnRequests (HTTP-Redirect and HTTP-POST) are accepted by our parser, and
 * the Responses our module builds (assertion signed by the real SoftHSM key,
 * encrypted with AES-256-GCM + RSA-OAEP-SHA256/MGF1-SHA256) are decrypted and
 * validated by it: signature, audience, recipient, InResponseTo, times.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ALG,
  OIOSAML,
  type VerifiedAuthnRequest,
  answerFor,
  issueAuthnResponse,
  issueErrorResponse,
  receiveAuthnRequest,
  STATUS,
} from '../../server/saml/index.js';
import { IDP_ENTITY_ID, type IdpKeys, MemoryReplayStore, SP_ENTITY_ID, SSO_URL, ACS_URL, type TestSp, formFields, makeSp, openIdpKeys, rawQuery } from './support.js';

let idp: IdpKeys;
let sp: TestSp;

before(async () => {
  idp = await openIdpKeys(1);
  sp = await makeSp([idp.keys[0]?.certificatePem ?? '']);
});
after(async () => idp?.close());

const policy = { idpEntityId: IDP_ENTITY_ID, ssoUrls: { redirect: SSO_URL, post: SSO_URL }, idpLevel: 'substantial' as const };

function deps(now = new Date()) {
  return { lookup: (id: string) => (id === SP_ENTITY_ID ? sp.serviceProvider : undefined), replay: new MemoryReplayStore(), policy, now };
}

async function respond(request: VerifiedAuthnRequest) {
  const key = idp.keys[0];
  if (!key) throw new Error('no key');
  return issueAuthnResponse(key, {
    idpEntityId: IDP_ENTITY_ID,
    request: answerFor(request),
    serviceProvider: sp.serviceProvider,
    now: new Date(),
    signIn: {
      nameId: { value: 'https://data.gov.dk/model/core/eid/professional/uuid/0e3c7a4e-2b7f-4b8e-9a51-7f1a3b7c9d10' },
      level: 'substantial',
      authnInstant: new Date(Date.now() - 2000),
      sessionIndex: '_session-1',
      cvr: '12345674',
      orgName: 'Testkommune',
    },
  });
}

test('OIOSAML 3 AuthnRequest (HTTP-Redirect) signed by node-saml is accepted; node-saml validates the HSM-signed, encrypted Response', async () => {
  const url = await sp.saml.getAuthorizeUrlAsync('relay-1', undefined, {});
  const request = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: rawQuery(url) });
  assert.equal(request.issuer, SP_ENTITY_ID);
  assert.equal(request.binding, 'redirect');
  assert.equal(request.acs.location, ACS_URL);
  assert.equal(request.relayState, 'relay-1');
  assert.equal(request.minimumLevel, 'substantial');
  const issued = await respond(request);
  assert.equal(issued.form.action, ACS_URL);
  assert.equal(issued.form.fields.RelayState, 'relay-1');
  assert.match(issued.xml, new RegExp(`EncryptionMethod Algorithm="${ALG.aes256Gcm}"`));
  assert.match(issued.xml, new RegExp(`EncryptionMethod Algorithm="${ALG.rsaOaep11}"`));
  assert.match(issued.xml, new RegExp(ALG.mgf1Sha256));
  const { profile, loggedOut } = await sp.saml.validatePostResponseAsync({ SAMLResponse: issued.form.fields.SAMLResponse ?? '' });
  assert.equal(loggedOut, false);
  assert.ok(profile);
  assert.equal(profile.issuer, IDP_ENTITY_ID);
  assert.equal(profile.nameID, 'https://data.gov.dk/model/core/eid/professional/uuid/0e3c7a4e-2b7f-4b8e-9a51-7f1a3b7c9d10');
  assert.equal(profile[OIOSAML.specVersionName], 'OIO-SAML-3.0');
  assert.equal(profile[OIOSAML.loaName], 'Substantial');
  assert.equal(profile[OIOSAML.cvrName], '12345674');
  assert.equal(profile[OIOSAML.orgNameName], 'Testkommune');
  assert.equal(profile.sessionIndex, '_session-1');
});

test('OIOSAML 3 AuthnRequest (HTTP-POST, enveloped signature) signed by node-saml is accepted and answered', async () => {
  const postSp = await makeSp([idp.keys[0]?.certificatePem ?? ''], { binding: 'HTTP-POST' });
  const form = await postSp.saml.getAuthorizeFormAsync('relay-2');
  const fields = formFields(form);
  assert.ok(fields.SAMLRequest, 'node-saml made a POST form');
  const request = await receiveAuthnRequest(
    { ...deps(), lookup: (id: string) => (id === SP_ENTITY_ID ? postSp.serviceProvider : undefined) },
    { binding: 'post', fields },
  );
  assert.equal(request.binding, 'post');
  assert.equal(request.relayState, 'relay-2');
  const key = idp.keys[0];
  if (!key) throw new Error('no key');
  const issued = await issueAuthnResponse(key, {
    idpEntityId: IDP_ENTITY_ID,
    request: answerFor(request),
    serviceProvider: postSp.serviceProvider,
    now: new Date(),
    signIn: { nameId: { value: 'abc@kommune' }, level: 'substantial', authnInstant: new Date(), sessionIndex: '_s2', cvr: '12345674', orgName: 'Testkommune' },
  });
  const { profile } = await postSp.saml.validatePostResponseAsync({ SAMLResponse: issued.form.fields.SAMLResponse ?? '' });
  assert.equal(profile?.nameID, 'abc@kommune');
});

test('OIOSAML 3 refusal sent to the ACS of a verified request: node-saml sees the status (NoPassive)', async () => {
  const url = await sp.saml.getAuthorizeUrlAsync('relay-3', undefined, {});
  const request = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: rawQuery(url) });
  const issued = issueErrorResponse(IDP_ENTITY_ID, answerFor(request), { top: STATUS.responder, second: STATUS.noPassive }, new Date());
  await assert.rejects(sp.saml.validatePostResponseAsync({ SAMLResponse: issued.form.fields.SAMLResponse ?? '' }), /NoPassive/);
});
