/**
 * Single logout through the running gateway (issue 15; saml-profiles 4.4): node-saml SPs send and
 * answer signed LogoutRequests and LogoutResponses over the front channel, the gateway session
 * ends, the other SAML participant is told, the initiator gets its LogoutResponse last; a
 * LogoutRequest carried to another browser ends nothing; signing out at the gateway sends
 * LogoutRequests to the session's SAML SPs, also when the sign-out is the API's (the header's and
 * the keys page's "Sign out": POST /api/signout answers where the browser must go next).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Profile } from '@node-saml/node-saml';
import { ApiClient, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import type { SoftAuthenticator } from '../support/softAuthenticator.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { SAML_ENV, browse, locationOf, makeGatewaySp, postedForm, registerSp, signInThroughSso, startSso, type GatewaySp } from './harness.js';

/** What the gateway sent towards an SP's SLO endpoint, by either binding (node-saml's metadata offers HTTP-POST). */
interface Delivered {
  endpoint: string;
  fields: Record<string, string>;
  redirect?: URL;
}

function delivered(res: ApiResponse): Delivered {
  if (res.status === 303) {
    const url = locationOf(res);
    return { endpoint: url.origin + url.pathname, fields: Object.fromEntries(url.searchParams), redirect: url };
  }
  const form = postedForm(res);
  return { endpoint: form.action, fields: form.fields };
}

/** The SP receives a LogoutRequest (either binding) and answers with a LogoutResponse URL to the gateway. */
async function spAnswers(sp: GatewaySp, d: Delivered): Promise<{ answer: string; profile: Profile }> {
  const received = d.redirect ? await sp.saml.validateRedirectAsync(d.fields, d.redirect.search.slice(1)) : await sp.saml.validatePostRequestAsync(d.fields);
  assert.equal(received.loggedOut, true);
  assert.ok(received.profile);
  return { answer: await sp.saml.getLogoutResponseUrlAsync(received.profile, d.fields['RelayState'] ?? '', {}, true), profile: received.profile };
}

/** The SP receives its LogoutResponse (node-saml validates LogoutResponses by HTTP-Redirect). */
async function spReceivesResponse(sp: GatewaySp, d: Delivered): Promise<boolean> {
  assert.ok(d.redirect, 'A asked for HTTP-Redirect');
  return (await sp.saml.validateRedirectAsync(d.fields, d.redirect.search.slice(1))).loggedOut;
}

function responseXml(d: Delivered): Promise<string> {
  const b64 = d.fields['SAMLResponse'] ?? '';
  return d.redirect ? inflated(b64).then((b) => Buffer.from(b).toString('utf8')) : Promise.resolve(Buffer.from(b64, 'base64').toString('utf8'));
}

describe('OIOSAML 3 single logout through the gateway (issue 15)', () => {
  let gw: TestGateway;
  let spA: GatewaySp;
  let spB: GatewaySp;
  let person: { auth: SoftAuthenticator; email: string; identityId: string };

  before(async () => {
    gw = await startTestGateway({ env: SAML_ENV });
    const admin = await activeAdmin(gw);
    spA = await makeGatewaySp(gw, { entityId: 'https://a-sp.example.dk/metadata', sloBinding: 'HTTP-Redirect' });
    assert.match(spA.metadataXml, /SingleLogoutService[^>]*HTTP-Redirect/);
    spB = await makeGatewaySp(gw, { entityId: 'https://b-sp.example.dk/metadata' });
    assert.equal((await registerSp(admin.client, spA)).status, 201);
    assert.equal((await registerSp(admin.client, spB)).status, 201);
    const emp = await activeEmployee(gw, admin.client, 'slo.person@demo.example', 'Slo Person');
    person = { auth: emp.auth, email: emp.email, identityId: emp.identityId };
  });
  after(async () => {
    await gw?.close();
  });

  /** A fresh browser signed in at A through the gateway, then at B by single sign-on. */
  async function signedInAtBoth(): Promise<{ browser: ApiClient; atA: Profile; atB: Profile }> {
    const browser = new ApiClient(gw.origin);
    const a = postedForm(await signInThroughSso(gw, browser, person.auth, person.email, spA));
    const atA = (await spA.saml.validatePostResponseAsync({ SAMLResponse: a.fields['SAMLResponse'] ?? '' })).profile;
    const b = postedForm(await browse(gw, browser, locationOf(await startSso(gw, browser, spB)).toString()));
    const atB = (await spB.saml.validatePostResponseAsync({ SAMLResponse: b.fields['SAMLResponse'] ?? '' })).profile;
    assert.ok(atA && atB);
    return { browser, atA, atB };
  }

  it('saml-profiles 4.4.3: an SP-initiated LogoutRequest (Redirect) ends the gateway session, B is told by the front channel (POST), A gets Success last (Redirect)', async () => {
    const { browser, atA } = await signedInAtBoth();
    assert.equal((await browser.get('/api/me')).status, 200);
    const logoutUrl = await spA.saml.getLogoutUrlAsync(atA, 'bye-a', {});
    const toB = delivered(await browse(gw, browser, logoutUrl));
    assert.equal(toB.endpoint, spB.slo, 'the other participant gets a LogoutRequest');
    assert.equal((await browser.get('/api/me')).status, 401, 'the gateway session ended');
    const { answer } = await spAnswers(spB, toB);
    const toA = delivered(await browse(gw, browser, answer));
    assert.equal(toA.endpoint, spA.slo, 'the initiator gets its LogoutResponse last');
    assert.equal(toA.fields['RelayState'], 'bye-a');
    assert.equal(await spReceivesResponse(spA, toA), true);
    assert.match(await responseXml(toA), /status:Success"/);
    const types = (await auditEntries(gw.runtime.store)).map((e) => e.type);
    for (const t of ['saml.logout-request.received', 'saml.logout-request.sent', 'saml.logout-response.received', 'saml.logout-response.sent']) assert.ok(types.includes(t), `${t} is in the broker log`);
  });

  it('saml-profiles 4.4.4.1: a LogoutRequest for another session (carried to another browser) ends nothing: RequestDenied, audited', async () => {
    const { browser, atA } = await signedInAtBoth();
    const stranger = new ApiClient(gw.origin);
    const toA = delivered(await browse(gw, stranger, await spA.saml.getLogoutUrlAsync(atA, 'other', {})));
    assert.equal(toA.endpoint, spA.slo);
    assert.match(await responseXml(toA), /status:RequestDenied/);
    assert.equal((await browser.get('/api/me')).status, 200, 'the person’s session is still live');
    const refused = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.logout-request.refused');
    assert.ok(refused.some((e) => JSON.stringify(e.data).includes('another-session')));
  });

  it('saml-profiles 4.4.2: signing out at the gateway sends each SAML SP of the session a signed LogoutRequest, then ends on the sign-in page', async () => {
    const { browser } = await signedInAtBoth();
    let res = await browse(gw, browser, '/saml/logout');
    assert.equal((await browser.get('/api/me')).status, 401);
    const told: string[] = [];
    for (let step = delivered(res); !step.endpoint.startsWith(gw.origin); step = delivered(res)) {
      const sp = [spA, spB].find((s) => step.endpoint === s.slo);
      assert.ok(sp, `an SP's SLO endpoint, not ${step.endpoint}`);
      told.push(sp.entityId);
      res = await browse(gw, browser, (await spAnswers(sp, step)).answer);
    }
    assert.deepEqual(told.sort(), [spA.entityId, spB.entityId].sort());
    const end = locationOf(res);
    assert.equal(end.pathname, '/');
    assert.equal(end.searchParams.get('signed-out'), '1');
  });

  /** Follows the front-channel chain from `res` to its end on the gateway; the SPs told, in order. */
  async function followChain(browser: ApiClient, first: ApiResponse): Promise<{ told: string[]; end: URL }> {
    let res = first;
    const told: string[] = [];
    for (let step = delivered(res); !step.endpoint.startsWith(gw.origin); step = delivered(res)) {
      const sp = [spA, spB].find((s) => step.endpoint === s.slo);
      assert.ok(sp, `an SP's SLO endpoint, not ${step.endpoint}`);
      told.push(sp.entityId);
      res = await browse(gw, browser, (await spAnswers(sp, step)).answer);
    }
    return { told, end: locationOf(res) };
  }

  function nextOf(res: ApiResponse): string {
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const next = typeof res.body === 'object' && res.body !== null && 'next' in res.body ? res.body.next : undefined;
    assert.equal(typeof next, 'string');
    return String(next);
  }

  it('NSIS 6 (Low) 5, OIOSAML single logout (saml-profiles 4.4.2): POST /api/signout of a session with SAML SPs ends it at once and sends the browser on; each SP gets a valid signed LogoutRequest, then the signed-out page; the handle works once', async () => {
    const { browser, atA, atB } = await signedInAtBoth();
    const next = nextOf(await browser.post('/api/signout', {}));
    assert.match(next, /^\/saml\/logout\?handle=[A-Za-z0-9_-]{16,64}$/);
    assert.equal((await browser.get('/api/me')).status, 401, 'the gateway session ended with the API call');
    const { told, end } = await followChain(browser, await browse(gw, browser, next));
    assert.deepEqual(told.sort(), [spA.entityId, spB.entityId].sort(), 'every SAML SP of the session got a LogoutRequest');
    assert.equal(end.pathname, '/');
    assert.equal(end.searchParams.get('signed-out'), '1');
    // node-saml verified each LogoutRequest's signature (spAnswers); they named the person's sessions.
    assert.ok(atA.nameID && atB.nameID);
    const sent = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.logout-request.sent');
    for (const sp of [spA, spB]) assert.ok(sent.some((e) => JSON.stringify(e.data).includes(sp.entityId)), `the LogoutRequest to ${sp.entityId} is in the broker log`);
    // A used handle tells nobody again: straight to the signed-out page, audited.
    const again = await browse(gw, browser, next);
    assert.equal(again.status, 303);
    assert.equal(locationOf(again).pathname, '/');
    const refused = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.gateway-logout.refused');
    assert.ok(refused.some((e) => JSON.stringify(e.data).includes('unknown-or-used-handle')));
  });

  it('NSIS 6 (Low) 5, OIOSAML single logout: POST /api/signout {everywhere:true} also sends this session’s SAML SPs their LogoutRequests', async () => {
    const { browser } = await signedInAtBoth();
    const next = nextOf(await browser.post('/api/signout', { everywhere: true }));
    assert.equal((await browser.get('/api/me')).status, 401);
    const { told } = await followChain(browser, await browse(gw, browser, next));
    assert.deepEqual(told.sort(), [spA.entityId, spB.entityId].sort());
  });

  it('NSIS 6 (Low) 5: POST /api/signout of a session without SAML participants answers 204 as before; a cross-site sign-out is refused', async () => {
    const browser = new ApiClient(gw.origin);
    assert.equal((await signIn(gw, browser, person.auth, person.email)).status, 200);
    const refused = await browser.post('/api/signout', {}, { origin: 'https://evil.example' });
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'CSRF_CHECK_FAILED');
    assert.equal((await browser.get('/api/me')).status, 200, 'a cross-site request ends nothing');
    const out = await browser.post('/api/signout', {});
    assert.equal(out.status, 204);
    assert.equal((await browser.get('/api/me')).status, 401);
  });

  it('OIOSAML single logout: an unknown or forged /saml/logout handle tells no SP and ends on the signed-out page; the refusal is audited', async () => {
    const stranger = new ApiClient(gw.origin);
    const refusedBefore = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.gateway-logout.refused').length;
    for (const handle of ['x'.repeat(32), '../../etc', '']) {
      const res = await browse(gw, stranger, `/saml/logout?handle=${encodeURIComponent(handle)}`);
      assert.equal(res.status, 303);
      const end = locationOf(res);
      assert.equal(end.origin + end.pathname, gw.origin + '/');
      assert.equal(end.searchParams.get('signed-out'), '1');
    }
    const refused = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.gateway-logout.refused');
    assert.equal(refused.length - refusedBefore, 3, 'each refused handle is audited');
    assert.ok(refused.every((e) => !JSON.stringify(e.data).includes('x'.repeat(32))), 'the handle is not logged');
  });
});

async function inflated(b64: string): Promise<Uint8Array> {
  const { inflateRawSync } = await import('node:zlib');
  return inflateRawSync(Buffer.from(b64, 'base64'));
}
