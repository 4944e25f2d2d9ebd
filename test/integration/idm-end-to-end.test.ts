/**
 * Issue 18, end to end over HTTP: a person created by the organisation's directory (SCIM) enrols
 * and activates a security key, appears at MitID Erhverv (the IdM contract server, mTLS against a
 * test CA) with the LocalIdentityProvider authenticator and the subject name id, and signs in to
 * the NemLog-in stand-in SP (@node-saml/node-saml, registered from its metadata) whose assertion
 * carries that subject name id as the persistent NameID (OIOSAML 3 towards NemLog-in). Then the
 * directory sets active=false: the keys are suspended, the session ends, the SP gets no assertion
 * and MitID Erhverv has the employee suspended (NSIS 3.2.3).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { NAMEID_FORMAT } from '../../server/saml/index.js';
import { ApiClient, field, obj } from '../support/apiClient.js';
import { type IdmHarness, startIdm } from '../support/idmHarness.js';
import { activate, activeAdmin, enrol, signIn } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { SAML_ENV, browse, locationOf, makeGatewaySp, postedForm, registerSp, signInThroughSso, startSso, type GatewaySp } from '../saml-gateway/harness.js';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('issue 18 end to end: SCIM -> key -> MitID Erhverv -> NemLog-in stand-in SP', { timeout: 300_000 }, () => {
  let idm: IdmHarness;
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let sp: GatewaySp;
  let token = '';
  const clock = new FixedClock(new Date());

  const scim = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${gw.origin}/scim/v2${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: JSON.stringify(body) });
    return { status: res.status, body: obj(await res.json()) };
  };

  before(async () => {
    idm = await startIdm();
    gw = await startTestGateway({
      clock,
      env: { ...SAML_ENV, ...idm.env(), GATEWAY_IDM_SUBJECT_NAME_ID_SUFFIX: '@kommune.example', GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000', GATEWAY_STEP_UP_MINUTES: '60' },
    });
    admin = await activeAdmin(gw);
    const res = await admin.client.post('/api/admin/provisioning/clients', { label: 'Entra ID', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person' });
    assert.equal(res.status, 201);
    token = field<string>(res.body, 'token', 'token');
    sp = await makeGatewaySp(gw);
    const reg = await registerSp(admin.client, sp);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
  });
  after(async () => {
    await gw?.close();
    await idm?.close();
  });

  it('issue 18 / NSIS 5.2 / OIOSAML 3 NameID persistent: a person created by SCIM enrols and activates a key, appears at MitID Erhverv with the LocalIdentityProvider authenticator and the subject name id, and signs in to the NemLog-in stand-in SP with that NameID; active=false suspends everywhere (NSIS 3.2.3 (Low) 1)', async () => {
    const created = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'Kirsten.Dahl@kommune.example',
      externalId: 'kida',
      name: { givenName: 'Kirsten', familyName: 'Dahl', formatted: 'Kirsten Dahl' },
      emails: [{ type: 'work', value: 'kirsten.dahl@kommune.example', primary: true }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const scimId = String(created.body['id']);
    const identityId = await read(gw.runtime.store, async (tx) => (await tx.identities.findActiveByEmail('kirsten.dahl@kommune.example'))?.id);
    assert.ok(identityId);

    // The org-admin sends the enrolment link by mail; the person enrols and activates a key.
    assert.equal((await admin.client.post(`/api/admin/identities/${identityId}/enrolments`, {})).status, 201);
    const browser = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    await enrol(gw, browser, auth, await gw.latestEnrolmentLink('kirsten.dahl@kommune.example'));
    assert.equal((await activate(gw, browser, auth, 'kirsten.dahl@kommune.example')).status, 200);

    // MitID Erhverv: created once, with the Local IdP as authenticator and the subject name id.
    const dispatcher = gw.runtime.idm;
    assert.ok(dispatcher);
    await dispatcher.runOnce();
    const person = await read(gw.runtime.store, (tx) => tx.idm.person(identityId));
    assert.equal(person?.subjectNameId, 'kida@kommune.example');
    assert.ok(person.employeeUuid);
    const there = idm.server.employees.get(person.employeeUuid);
    assert.ok(there, 'the employee exists at MitID Erhverv');
    const received = there.authenticators.filter((a) => a.type === 'LocalIdentityProvider').map((a) => a.id);
    assert.deepEqual(received, ['kida@kommune.example']);
    assert.equal(idm.server.effects.filter((e) => e.kind === 'create' && e.uuid === there.uuid).length, 1);

    // Shown to admins on the person's page.
    const panel = await admin.client.get(`/api/helpdesk/identities/${identityId}`);
    assert.equal(panel.status, 200);
    assert.equal(field(panel.body, 'identity', 'subjectNameId'), 'kida@kommune.example');

    // The NemLog-in stand-in SP: the persistent NameID is the id MitID Erhverv received.
    const ssoBrowser = new ApiClient(gw.origin);
    const form = postedForm(await signInThroughSso(gw, ssoBrowser, auth, 'kirsten.dahl@kommune.example', sp));
    const { profile } = await sp.saml.validatePostResponseAsync({ SAMLResponse: form.fields['SAMLResponse'] ?? '' });
    assert.ok(profile);
    assert.equal(profile.nameID, received[0]);
    assert.equal(profile.nameIDFormat, NAMEID_FORMAT.persistent);

    // NSIS 3.2.3 (Low) 1: the directory sets the person inactive (Entra casing).
    const off = await scim('PATCH', `/Users/${scimId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    const keys = await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(identityId));
    assert.deepEqual(keys.map((k) => [k.state, k.stateReason]), [['suspended', 'binding-suspended']]);
    assert.equal((await browser.get('/api/me')).status, 401, 'the session ended');
    const refused = await signIn(gw, new ApiClient(gw.origin), auth, 'kirsten.dahl@kommune.example');
    assert.notEqual(refused.status, 200, 'a suspended key signs nobody in');
    // The SP asks again in the browser that signed in: its session ended, so no assertion, AuthnFailed.
    const page = locationOf(await browse(gw, ssoBrowser, locationOf(await startSso(gw, ssoBrowser, sp)).toString()));
    const requestId = page.searchParams.get('saml') ?? '';
    const answer = postedForm(await browse(gw, ssoBrowser, `/saml/sso/continue?request=${encodeURIComponent(requestId)}`));
    const xml = Buffer.from(answer.fields['SAMLResponse'] ?? '', 'base64').toString('utf8');
    assert.doesNotMatch(xml, /Assertion/);
    assert.deepEqual([...xml.matchAll(/<samlp:StatusCode Value="([^"]+)"/g)].map((m) => m[1]), ['urn:oasis:names:tc:SAML:2.0:status:Responder', 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed']);
    await dispatcher.runOnce();
    assert.equal(idm.server.employees.get(there.uuid)?.status, 'Suspended', 'suspended at MitID Erhverv too');
    assert.equal(idm.server.effects.filter((e) => e.kind === 'suspend' && e.uuid === there.uuid).length, 1);
  });
});
