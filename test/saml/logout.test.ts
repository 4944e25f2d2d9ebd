/**
 * Single logout with an independent SP (node-saml): its signed LogoutRequest
 * (HTTP-Redirect) is verified, our HSM-signed LogoutResponse is accepted by
 * it; our IdP-initiated LogoutRequests (POST and Redirect) are accepted by
 * it and its LogoutResponse is verified and matched. Hostile logout messages
 * are refused with typed errors. Every message has its broker-log entry.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Profile } from '@node-saml/node-saml';
import {
  BINDING,
  NAMEID_FORMAT,
  NS,
  type ReceiveLogoutDeps,
  type SamlSigningKey,
  type ServiceProvider,
  buildLogoutRequest,
  buildLogoutResponse,
  isSamlError,
  receiveLogoutRequest,
  receiveLogoutResponse,
} from '../../server/saml/index.js';
import { parseXml } from '../../server/saml/xml/parse.js';
import { verifyEnveloped } from '../../server/saml/xml/verifyEnveloped.js';
import { signPost, signRedirect, unsignedRedirect } from './craft.js';
import { IDP_ENTITY_ID, type IdpKeys, MemoryReplayStore, SLO_URL, SP_ENTITY_ID, SP_SLO_URL, type TestSp, makeSp, openIdpKeys, rawQuery } from './support.js';

let idp: IdpKeys;
let sp: TestSp;
let key: SamlSigningKey;
before(async () => {
  idp = await openIdpKeys(1);
  key = idp.keys[0] as SamlSigningKey;
  sp = await makeSp([key.certificatePem]);
});
after(async () => idp?.close());

function deps(record: ServiceProvider = sp.serviceProvider, replay = new MemoryReplayStore()): ReceiveLogoutDeps {
  return { lookup: (id) => (id === SP_ENTITY_ID ? record : undefined), replay, sloUrls: { redirect: SLO_URL, post: SLO_URL }, now: new Date() };
}

const NAMEID = 'https://data.gov.dk/model/core/eid/professional/uuid/8d2f0f8e-3c1a-4a51-9c7e-0b6f5e2d4a10';
const profile = (): Profile => ({ issuer: IDP_ENTITY_ID, nameID: NAMEID, nameIDFormat: NAMEID_FORMAT.persistent, sessionIndex: '_session-9' });

function logoutRequestXml(options: { id?: string; sessionIndexes?: string[]; nameId?: string; destination?: string } = {}): string {
  return (
    `<samlp:LogoutRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${options.id ?? `_lr${Date.now()}${Math.random().toString(16).slice(2)}`}" Version="2.0" ` +
    `IssueInstant="${new Date().toISOString()}" Destination="${options.destination ?? SLO_URL}">` +
    `<saml:Issuer>${SP_ENTITY_ID}</saml:Issuer><saml:NameID Format="${NAMEID_FORMAT.persistent}">${options.nameId ?? NAMEID}</saml:NameID>` +
    (options.sessionIndexes ?? ['_session-9']).map((s) => `<samlp:SessionIndex>${s}</samlp:SessionIndex>`).join('') +
    '</samlp:LogoutRequest>'
  );
}

test('NSIS 6 (Low) 5 / OIOSAML 3 SLO: an SP-initiated LogoutRequest (node-saml, HTTP-Redirect) is verified, and our HSM-signed LogoutResponse is accepted by the SP', async () => {
  // node-saml reads LogoutResponses from the Redirect binding (its POST handler expects a samlp:Response).
  const redirectSp: ServiceProvider = { ...sp.serviceProvider, singleLogoutServices: [{ binding: BINDING.redirect, location: SP_SLO_URL }] };
  const url = await sp.saml.getLogoutUrlAsync(profile(), 'slo-relay', {});
  const request = await receiveLogoutRequest(deps(redirectSp), { binding: 'redirect', rawQuery: rawQuery(url) });
  assert.equal(request.issuer, SP_ENTITY_ID);
  assert.equal(request.nameId.value, NAMEID);
  assert.equal(request.sessionIndex, '_session-9');
  assert.equal(request.relayState, 'slo-relay');
  assert.equal(request.responseEndpoint.location, SP_SLO_URL);
  assert.equal(request.log.kind, 'LogoutRequest');
  assert.equal(request.log.direction, 'in');
  const response = await buildLogoutResponse(key, IDP_ENTITY_ID, request, new Date());
  assert.equal(response.binding, 'redirect');
  if (response.binding !== 'redirect') return;
  assert.ok(response.url.startsWith(`${SP_SLO_URL}?SAMLResponse=`));
  assert.equal(response.log.inResponseTo, request.id);
  const query = rawQuery(response.url);
  const result = await sp.saml.validateRedirectAsync(Object.fromEntries(new URLSearchParams(query)), query);
  assert.equal(result.loggedOut, true);
  // By POST (the SP's metadata offers only POST): an enveloped signature by the HSM key, InResponseTo the request.
  const post = await buildLogoutResponse(key, IDP_ENTITY_ID, { ...request, responseEndpoint: { binding: BINDING.post, location: SP_SLO_URL } }, new Date());
  assert.equal(post.binding, 'post');
  if (post.binding !== 'post') return;
  const xml = Buffer.from(post.form.fields.SAMLResponse ?? '', 'base64').toString('utf8');
  const verified = verifyEnveloped(xml, parseXml(xml), { ns: NS.samlp, localName: 'LogoutResponse' }, [key.certificatePem]);
  assert.equal(verified.element.getAttribute('InResponseTo'), request.id);
});

test('NSIS 6 (Low) 5 / OIOSAML 3 SLO: the IdP-initiated LogoutRequest, HSM-signed (POST and Redirect), is accepted by the SP, and its LogoutResponse is verified', async () => {
  const viaPost = await buildLogoutRequest(key, { idpEntityId: IDP_ENTITY_ID, serviceProvider: sp.serviceProvider, nameId: { value: NAMEID }, sessionIndex: '_session-9', now: new Date() });
  assert.equal(viaPost?.binding, 'post');
  if (viaPost?.binding !== 'post') return;
  const accepted = await sp.saml.validatePostRequestAsync({ SAMLRequest: viaPost.form.fields.SAMLRequest ?? '' });
  assert.equal(accepted.loggedOut, true);
  assert.equal(accepted.profile?.nameID, NAMEID);
  assert.equal(accepted.profile?.sessionIndex, '_session-9');

  // An SP whose metadata offers the Redirect binding for SLO gets a signed query.
  const redirectSp: ServiceProvider = { ...sp.serviceProvider, singleLogoutServices: [{ binding: BINDING.redirect, location: SP_SLO_URL }] };
  const viaRedirect = await buildLogoutRequest(key, { idpEntityId: IDP_ENTITY_ID, serviceProvider: redirectSp, nameId: { value: NAMEID }, sessionIndex: '_session-9', now: new Date(), relayState: 'r1' });
  assert.equal(viaRedirect?.binding, 'redirect');
  if (viaRedirect?.binding !== 'redirect') return;
  const query = rawQuery(viaRedirect.url);
  const byRedirect = await sp.saml.validateRedirectAsync(Object.fromEntries(new URLSearchParams(query)), query);
  assert.equal(byRedirect.loggedOut, true);
  assert.ok(byRedirect.profile);

  // The SP answers (node-saml LogoutResponse, signed Redirect); we verify it and match it to our request.
  const answerUrl = await sp.saml.getLogoutResponseUrlAsync(byRedirect.profile as Profile, 'r1', {}, true);
  const requestId = String((byRedirect.profile as Profile).ID);
  const answer = await receiveLogoutResponse(deps(), { binding: 'redirect', rawQuery: rawQuery(answerUrl) }, requestId);
  assert.equal(answer.success, true);
  assert.equal(answer.inResponseTo, requestId);
  await assert.rejects(receiveLogoutResponse(deps(), { binding: 'redirect', rawQuery: rawQuery(answerUrl) }, '_another-request'), (err) => isSamlError(err, 'SAML_MALFORMED'));
  // An SP without SingleLogoutService gets nothing.
  assert.equal(await buildLogoutRequest(key, { idpEntityId: IDP_ENTITY_ID, serviceProvider: { ...sp.serviceProvider, singleLogoutServices: [] }, nameId: { value: NAMEID }, sessionIndex: 's', now: new Date() }), undefined);
});

test('NSIS 6 (Low) 5 / OIOSAML 3 SLO: unsigned, wrongly signed, replayed, misdirected or ambiguous LogoutRequests are refused', async () => {
  const spKey = sp.signing.privateKeyPem;
  await assert.rejects(receiveLogoutRequest(deps(), { binding: 'redirect', rawQuery: unsignedRedirect(logoutRequestXml()) }), (err) => isSamlError(err, 'SAML_UNSIGNED'));
  await assert.rejects(receiveLogoutRequest(deps(), { binding: 'post', fields: { SAMLRequest: Buffer.from(logoutRequestXml()).toString('base64') } }), (err) => isSamlError(err, 'SAML_UNSIGNED'));
  const other = await makeSp([]);
  await assert.rejects(receiveLogoutRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(logoutRequestXml(), other.signing.privateKeyPem) }), (err) => isSamlError(err, 'SAML_SIGNATURE_INVALID'));
  const replay = new MemoryReplayStore();
  const once = signRedirect(logoutRequestXml(), spKey);
  await receiveLogoutRequest(deps(sp.serviceProvider, replay), { binding: 'redirect', rawQuery: once });
  await assert.rejects(receiveLogoutRequest(deps(sp.serviceProvider, replay), { binding: 'redirect', rawQuery: once }), (err) => isSamlError(err, 'SAML_REPLAYED'));
  await assert.rejects(receiveLogoutRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(logoutRequestXml({ destination: 'https://elsewhere.example/slo' }), spKey) }), (err) =>
    isSamlError(err, 'SAML_DESTINATION_MISMATCH'),
  );
  for (const sessionIndexes of [[], ['_a', '_b']]) {
    await assert.rejects(receiveLogoutRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(logoutRequestXml({ sessionIndexes }), spKey) }), (err) => isSamlError(err, 'SAML_MALFORMED'));
  }
});

test('OIOSAML 3 SLO: a comment injected into the signed NameID of a POST LogoutRequest is read as the whole signed value', async () => {
  const signed = signPost(logoutRequestXml({ nameId: 'alice@kommune.dk.evil.example' }), sp.signing.privateKeyPem, 'LogoutRequest');
  const injected = signed.replace('alice@kommune.dk.evil.example', 'alice@kommune.dk<!---->.evil.example');
  const request = await receiveLogoutRequest(deps(), { binding: 'post', fields: { SAMLRequest: Buffer.from(injected).toString('base64') } });
  assert.equal(request.nameId.value, 'alice@kommune.dk.evil.example');
});
