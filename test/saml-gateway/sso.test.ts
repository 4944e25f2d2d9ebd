/**
 * The OIOSAML 3 identity provider wired into the running gateway (issue 15), end to end over HTTP:
 * @node-saml/node-saml as the independent SP registered from its metadata through the admin API,
 * the person's browser an ApiClient signing in on the gateway's WebAuthn sign-in with the software
 * authenticator, the Responses signed by the SAML key in the real SoftHSM token and decrypted and
 * validated by node-saml. Hostile and unanswerable requests are refused with stable codes,
 * audited, never a 5xx.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { after, before, describe, it } from 'node:test';
import { OIOSAML } from '../../server/saml/index.js';
import { ApiClient, field, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { failing, spView } from '../saml/oiosamlRules.js';
import { SAML_ENV, idpCertificates, browse, locationOf, makeGatewaySp, postedForm, registerSp, signInThroughSso, startSso, type GatewaySp } from './harness.js';

const STATUS_OF = (xml: string): string[] => [...xml.matchAll(/<samlp:StatusCode Value="([^"]+)"/g)].map((m) => m[1] ?? '');
const decoded = (form: { fields: Record<string, string> }): string => Buffer.from(form.fields['SAMLResponse'] ?? '', 'base64').toString('utf8');

/** A refusal as an API client sees it (problem+json). */
async function refusedJson(gw: TestGateway, browser: ApiClient, url: string): Promise<ApiResponse> {
  const u = new URL(url, gw.origin);
  return browser.request('GET', u.pathname + u.search, undefined, { accept: 'application/json' });
}

describe('OIOSAML 3 identity provider in the gateway (issue 15) with node-saml as the SP', () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let sp: GatewaySp;
  let person: { auth: SoftAuthenticator; email: string; identityId: string };

  before(async () => {
    gw = await startTestGateway({ env: SAML_ENV });
    admin = await activeAdmin(gw);
    sp = await makeGatewaySp(gw);
    const reg = await registerSp(admin.client, sp);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const emp = await activeEmployee(gw, admin.client, 'saml.person@demo.example', 'Saml Person');
    person = { auth: emp.auth, email: emp.email, identityId: emp.identityId };
  });
  after(async () => {
    await gw?.close();
  });

  it('OIOSAML 3 Web Browser SSO (HTTP-Redirect): a real sign-in on the gateway page answers node-saml with an HSM-signed, encrypted assertion it validates', async () => {
    const browser = new ApiClient(gw.origin);
    const form = postedForm(await signInThroughSso(gw, browser, person.auth, person.email, sp));
    assert.equal(form.action, sp.acs);
    assert.equal(form.fields['RelayState'], 'relay-1');
    const { profile } = await sp.saml.validatePostResponseAsync({ SAMLResponse: form.fields['SAMLResponse'] ?? '' });
    assert.ok(profile);
    assert.equal(profile.issuer, `${gw.origin}/saml/metadata`);
    assert.equal(profile.nameID, `https://data.gov.dk/model/core/eid/professional/uuid/${person.identityId}`);
    assert.equal(profile[OIOSAML.specVersionName], 'OIO-SAML-3.0');
    assert.equal(profile[OIOSAML.loaName], 'Substantial');
    assert.equal(profile[OIOSAML.cvrName], gw.runtime.config.demo.orgCvr);
    assert.equal(profile[OIOSAML.orgNameName], gw.runtime.config.demo.orgName);
    assert.match(decoded(form), /<saml:EncryptedAssertion/);
    assert.doesNotMatch(decoded(form), /<saml:Assertion[\s>]/, 'no plain assertion leaves the gateway');
  });

  it('OIOSAML.Java AssertionValidationService (rules as data): every rule holds for the gateway’s Response to node-saml', async () => {
    const url = await sp.saml.getAuthorizeUrlAsync('relay-rules', undefined, {});
    const { inflateRawSync } = await import('node:zlib');
    const requestXml = inflateRawSync(Buffer.from(new URL(url).searchParams.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
    const requestId = /\sID="([^"]+)"/.exec(requestXml)?.[1];
    assert.ok(requestId);
    const form = postedForm(await signInThroughSso(gw, new ApiClient(gw.origin), person.auth, person.email, sp, url));
    const [active] = await idpCertificates(gw);
    assert.ok(active);
    const ctx = await spView(
      { decryptionKeyPem: sp.encryption.privateKeyPem, entityId: sp.entityId, idpEntityId: `${gw.origin}/saml/metadata` },
      decoded(form),
      { id: requestId, acsUrl: sp.acs, level: 'substantial' },
      active,
    );
    assert.deepEqual(failing(ctx), []);
  });

  it('saml-bindings 3.5 (HTTP-POST AuthnRequest) and single sign-on: a live session at the requested level is reused without a second key touch', async () => {
    const browser = new ApiClient(gw.origin);
    postedForm(await signInThroughSso(gw, browser, person.auth, person.email, sp));
    const postSp = await makeGatewaySp(gw, { entityId: 'https://post-sp.example.dk/metadata', binding: 'HTTP-POST' });
    assert.equal((await registerSp(admin.client, postSp)).status, 201);
    const html = await postSp.saml.getAuthorizeFormAsync('relay-post', undefined, {});
    const fields: Record<string, string> = {};
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[m[1] ?? ''] = (m[2] ?? '').replace(/&#x2F;/g, '/').replace(/&#x3D;/g, '=').replace(/&#x2B;/g, '+').replace(/&amp;/g, '&');
    const posted = await browser.request('POST', '/saml/sso', new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    const resume = locationOf(posted);
    const form = postedForm(await browse(gw, browser, resume.toString()));
    assert.equal(form.action, postSp.acs);
    const { profile } = await postSp.saml.validatePostResponseAsync({ SAMLResponse: form.fields['SAMLResponse'] ?? '' });
    assert.equal(profile?.nameID, `https://data.gov.dk/model/core/eid/professional/uuid/${person.identityId}`);
  });

  it('saml-core 3.4.1 ForceAuthn: a live session is not enough, the person is sent to the sign-in page for a fresh key touch', async () => {
    const browser = new ApiClient(gw.origin);
    postedForm(await signInThroughSso(gw, browser, person.auth, person.email, sp));
    const forcing = await makeGatewaySp(gw, { entityId: 'https://force-sp.example.dk/metadata', forceAuthn: true });
    assert.equal((await registerSp(admin.client, forcing)).status, 201);
    const resume = locationOf(await startSso(gw, browser, forcing));
    const page = locationOf(await browse(gw, browser, resume.toString()));
    assert.equal(page.pathname, '/index.html', 'ForceAuthn sends the person to sign in again');
    // Continuing without the fresh key touch is answered AuthnFailed, never with the old session.
    const form = postedForm(await browse(gw, browser, `/saml/sso/continue?request=${page.searchParams.get('saml') ?? ''}`));
    assert.deepEqual(STATUS_OF(decoded(form)), ['urn:oasis:names:tc:SAML:2.0:status:Responder', 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed']);
    const fresh = postedForm(await signInThroughSso(gw, browser, person.auth, person.email, forcing));
    const { profile } = await forcing.saml.validatePostResponseAsync({ SAMLResponse: fresh.fields['SAMLResponse'] ?? '' });
    assert.equal(profile?.nameID, `https://data.gov.dk/model/core/eid/professional/uuid/${person.identityId}`);
  });

  it('saml-core 3.4.1 IsPassive: without a session the answer is NoPassive, at the SP’s ACS', async () => {
    const passive = await makeGatewaySp(gw, { entityId: 'https://passive-sp.example.dk/metadata', passive: true });
    assert.equal((await registerSp(admin.client, passive)).status, 201);
    const browser = new ApiClient(gw.origin);
    const form = postedForm(await browse(gw, browser, locationOf(await startSso(gw, browser, passive)).toString()));
    assert.equal(form.action, passive.acs);
    assert.deepEqual(STATUS_OF(decoded(form)), ['urn:oasis:names:tc:SAML:2.0:status:Responder', 'urn:oasis:names:tc:SAML:2.0:status:NoPassive']);
    await assert.rejects(passive.saml.validatePostResponseAsync({ SAMLResponse: form.fields['SAMLResponse'] ?? '' }), /NoPassive/);
  });

  it('saml-core 3.4.1: ForceAuthn together with IsPassive is refused at the ACS (Requester), audited', async () => {
    const both = await makeGatewaySp(gw, { entityId: 'https://both-sp.example.dk/metadata', passive: true, forceAuthn: true });
    assert.equal((await registerSp(admin.client, both)).status, 201);
    const browser = new ApiClient(gw.origin);
    const form = postedForm(await startSso(gw, browser, both));
    assert.equal(STATUS_OF(decoded(form))[0], 'urn:oasis:names:tc:SAML:2.0:status:Requester');
    const refused = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.authn-request.refused');
    assert.ok(refused.some((e) => JSON.stringify(e.data).includes('SAML_FORCE_AND_PASSIVE')));
  });

  it('OIOSAML 3 RequestedAuthnContext is a minimum: High asked of a Substantial gateway is answered NoAuthnContext, never a lower level', async () => {
    const high = await makeGatewaySp(gw, { entityId: 'https://high-sp.example.dk/metadata', authnContext: [OIOSAML.loaHigh] });
    assert.equal((await registerSp(admin.client, high)).status, 201);
    const form = postedForm(await startSso(gw, new ApiClient(gw.origin), high));
    assert.deepEqual(STATUS_OF(decoded(form)), ['urn:oasis:names:tc:SAML:2.0:status:Responder', 'urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext']);
  });

  it('saml-profiles 4.1.4.5: a replayed AuthnRequest is refused (400 SAML_REQUEST_REFUSED, samlCode SAML_REPLAYED), audited', async () => {
    const browser = new ApiClient(gw.origin);
    const url = await sp.saml.getAuthorizeUrlAsync('relay-replay', undefined, {});
    locationOf(await browse(gw, browser, url));
    const again = await refusedJson(gw, browser, url);
    assert.equal(again.status, 400);
    assert.equal(again.code, 'SAML_REQUEST_REFUSED');
    assert.equal(field(again.body, 'samlCode'), 'SAML_REPLAYED');
    const page = await browse(gw, browser, url);
    assert.equal(page.status, 400, 'a browser gets a page, not a 5xx');
    assert.match(String(page.body), /SAML_REQUEST_REFUSED/);
  });

  it('saml-bindings 3.4.4.1: an unsigned, a wrongly signed and an unknown SP’s AuthnRequest are refused with stable codes and audited', async () => {
    const browser = new ApiClient(gw.origin);
    const url = new URL(await sp.saml.getAuthorizeUrlAsync('relay-x', undefined, {}));
    const unsigned = new URL(url);
    unsigned.searchParams.delete('Signature');
    unsigned.searchParams.delete('SigAlg');
    const r1 = await refusedJson(gw, browser, unsigned.toString());
    assert.deepEqual([r1.status, r1.code, field(r1.body, 'samlCode')], [400, 'SAML_REQUEST_REFUSED', 'SAML_UNSIGNED']);
    const wrong = new URL(await sp.saml.getAuthorizeUrlAsync('relay-y', undefined, {}));
    const sig = wrong.searchParams.get('Signature') ?? '';
    wrong.searchParams.set('Signature', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    const r2 = await refusedJson(gw, browser, wrong.toString());
    assert.deepEqual([r2.status, r2.code, field(r2.body, 'samlCode')], [400, 'SAML_REQUEST_REFUSED', 'SAML_SIGNATURE_INVALID']);
    const stranger = await makeGatewaySp(gw, { entityId: 'https://unknown-sp.example.dk/metadata' });
    const r3 = await refusedJson(gw, browser, await stranger.saml.getAuthorizeUrlAsync('relay-z', undefined, {}));
    assert.deepEqual([r3.status, r3.code, field(r3.body, 'samlCode')], [400, 'SAML_REQUEST_REFUSED', 'SAML_UNKNOWN_ISSUER']);
    const codes = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.authn-request.refused').map((e) => JSON.stringify(e.data));
    for (const code of ['SAML_UNSIGNED', 'SAML_SIGNATURE_INVALID', 'SAML_UNKNOWN_ISSUER']) assert.ok(codes.some((c) => c.includes(code)), `${code} is audited`);
  });

  it('RFC 9700 4.18 (login CSRF): a pending SAML request continues only in the browser that brought it (403 SAML_BROWSER_MISMATCH)', async () => {
    const browser = new ApiClient(gw.origin);
    const resume = locationOf(await startSso(gw, browser, sp));
    const other = new ApiClient(gw.origin);
    const res = await refusedJson(gw, other, resume.toString());
    assert.deepEqual([res.status, res.code], [403, 'SAML_BROWSER_MISMATCH']);
    const unknown = await refusedJson(gw, browser, '/saml/sso/continue?request=not-a-request-id-at-all');
    assert.deepEqual([unknown.status, unknown.code], [400, 'SAML_REQUEST_UNKNOWN']);
  });

  it('NSIS 6 (Low) 7 broker log: requests and responses are in the audit chain with IDs, issuer, destination, status, the attributes released and the assertion hash, never the assertion', async () => {
    const browser = new ApiClient(gw.origin);
    const form = postedForm(await signInThroughSso(gw, browser, person.auth, person.email, sp));
    const entries = await auditEntries(gw.runtime.store);
    const sent = entries.filter((e) => e.type === 'saml.response.sent').pop();
    assert.ok(sent);
    const log = field<Record<string, unknown>>(sent.data, 'saml');
    assert.equal(log['destination'], sp.acs);
    assert.match(String(log['assertionSha256']), /^[0-9a-f]{64}$/);
    assert.ok(Array.isArray(log['attributes']) && JSON.stringify(log['attributes']).includes(OIOSAML.cvrName));
    assert.equal(sent.actorId, person.identityId);
    assert.ok(entries.some((e) => e.type === 'saml.authn-request.received' && field(e.data, 'saml', 'issuer') === sp.entityId));
    const all = JSON.stringify(entries);
    assert.doesNotMatch(all, /Assertion xmlns|<saml:Assertion|EncryptedAssertion/, 'no assertion XML in the audit chain');
    assert.ok(!all.includes(form.fields['SAMLResponse'] ?? 'x'), 'no Response in the audit chain');
  });
  it('issue 15 hostile input (property): random queries and forms at every SAML endpoint, and random registration bodies, never give a 5xx', async () => {
    const browser = new ApiClient(gw.origin);
    const valid = new URL(await sp.saml.getAuthorizeUrlAsync('relay-prop', undefined, {}));
    const b64 = fc.base64String({ maxLength: 400 });
    const value = fc.oneof(fc.string({ maxLength: 300 }), b64, fc.constant(valid.searchParams.get('SAMLRequest') ?? ''), fc.constant(valid.searchParams.get('Signature') ?? ''));
    const params = fc.dictionary(fc.constantFrom('SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature', 'request', 'x'), value, { maxKeys: 5 });
    const path = fc.constantFrom('/saml/sso', '/saml/slo', '/saml/sso/resume', '/saml/sso/continue');
    await fc.assert(
      fc.asyncProperty(path, params, fc.boolean(), async (p, q, post) => {
        const query = new URLSearchParams(q).toString();
        const res = post && (p === '/saml/sso' || p === '/saml/slo')
          ? await browser.request('POST', p, query, { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' })
          : await browser.request('GET', `${p}?${query}`, undefined, { accept: 'application/json' });
        assert.ok(res.status < 500, `${post ? 'POST' : 'GET'} ${p}?${query.slice(0, 200)} gave ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.record({ metadataXml: fc.oneof(fc.string({ maxLength: 500 }), fc.constant(sp.metadataXml.slice(0, 900))), settings: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }) }, { requiredKeys: [] }), async (bodyValue) => {
        const res = await admin.client.post('/api/admin/saml/service-providers', bodyValue);
        assert.ok(res.status >= 400 && res.status < 500, `${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      }),
      { numRuns: 60 },
    );
  });
});
