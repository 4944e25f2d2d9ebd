/**
 * Issue 18, inbound: the organisation's directory provisions people over real HTTP at /scim/v2,
 * as Microsoft Entra ID's provisioning service does (application/scim+json, PATCH with Entra's
 * casing, ETags), into the running gateway: real SQLite file, real SoftHSM, real WebAuthn
 * ceremonies for the person it binds. Every SCIM write goes through the flows and the lifecycle
 * table (provisioning rows) and is audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, field, obj } from '../support/apiClient.js';
import { activate, activeAdmin, enrol, signIn } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { auditEntries, read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const SCIM = 'application/scim+json';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface ScimAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe('issue 18: SCIM 2.0 provisioning into the gateway', () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let token = '';
  let clientId = '';

  /** A SCIM client as Entra's provisioning service is one: bearer token, scim+json both ways. */
  const scim = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, bearer = token): Promise<ScimAnswer> => {
    const res = await fetch(`${gw.origin}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, accept: SCIM, ...(body !== undefined ? { 'content-type': SCIM } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? obj(JSON.parse(text)) : {} };
  };
  const entraUser = (userName: string, email: string, externalId: string) => ({
    schemas: [USER_SCHEMA],
    userName,
    externalId,
    active: true,
    displayName: 'Dorthe Directory',
    name: { givenName: 'Dorthe', familyName: 'Directory', formatted: 'Dorthe Directory' },
    emails: [{ primary: true, type: 'work', value: email }],
  });
  const identityOf = async (scimId: string) => {
    const row = await read(gw.runtime.store, async (tx) => {
      const c = await tx.provisioning.client(clientId);
      return c ? tx.scimUsers.get(c.organisationId, scimId) : undefined;
    });
    assert.ok(row, 'the SCIM User is stored');
    const identity = await read(gw.runtime.store, (tx) => tx.identities.get(row.identityId));
    assert.ok(identity);
    return identity;
  };
  const keysOf = (identityId: string) => read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(identityId));

  before(async () => {
    gw = await startTestGateway({ env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000' } });
    admin = await activeAdmin(gw);
  });
  after(async () => {
    await gw.close();
  });

  it('issue 18 / NSIS 3.1.2: an org-admin registers a provisioning client with the declared assurance; the token is shown once and stored only as a keyed hash', async () => {
    const employee = new ApiClient(gw.origin);
    assert.equal((await employee.post('/api/admin/provisioning/clients', { label: 'x', ial: 'low', proofingMethod: 'none' })).status, 401);
    const bad = await admin.client.post('/api/admin/provisioning/clients', { label: 'Entra ID', ial: 'extreme', proofingMethod: 'HR' });
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'VALIDATION_FAILED');
    const res = await admin.client.post('/api/admin/provisioning/clients', { label: 'Entra ID (HR sync)', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person', tokenDays: 30 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    token = field<string>(res.body, 'token', 'token');
    clientId = field<string>(res.body, 'client', 'id');
    assert.match(token, /^gwscim\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    assert.equal(field(res.body, 'scimUrl'), `${gw.origin}/scim/v2`);
    const overview = await admin.client.get('/api/admin/provisioning');
    assert.equal(overview.status, 200);
    assert.doesNotMatch(JSON.stringify(overview.body), new RegExp(token.split('.')[2] ?? 'x'), 'the secret is never shown again');
    const stored = await read(gw.runtime.store, (tx) => tx.provisioning.tokensOf(clientId));
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0]?.secretHash, token.split('.')[2]);
    const events = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'provisioning.client-registered');
    assert.equal(events.length, 1);
    assert.doesNotMatch(JSON.stringify(events), new RegExp(token.split('.')[2] ?? 'x'));
  });

  it('RFC 6750 §3: without a valid token /scim/v2 answers 401 with WWW-Authenticate, and the refusal is audited', async () => {
    const none = await fetch(`${gw.origin}/scim/v2/Users`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await scim('GET', '/Users', undefined, {}, `${token.slice(0, -4)}AAAA`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body['status'], '401');
    const refusals = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'scim.refused');
    assert.ok(refusals.some((e) => e.data['tokenRefusal'] === 'mismatch'));
    assert.doesNotMatch(JSON.stringify(refusals), new RegExp(token.split('.')[2] ?? 'x'), 'never the token');
  });

  it('issue 18 / NSIS 5.2: a User created by SCIM is a bound identity at the declared assurance; found by filter; ETag; userName unique without case (409 uniqueness)', async () => {
    const created = await scim('POST', '/Users', entraUser('dorthe@demo.example', 'dorthe@demo.example', 'dorthe'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('content-type')?.split(';')[0], SCIM);
    assert.equal(created.headers.get('etag'), 'W/"1"');
    const id = String(created.body['id']);
    const identity = await identityOf(id);
    assert.equal(identity.bindingState, 'active');
    assert.equal(identity.name, 'Dorthe Directory');
    assert.equal(identity.ial, 'substantial');
    assert.equal(identity.proofingMethod, 'HR onboarding: passport checked in person');
    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "DORTHE@demo.example"')}`);
    assert.equal(found.status, 200);
    assert.equal(found.body['totalResults'], 1);
    const byExternal = await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "dorthe" and emails[type eq "work"].value eq "dorthe@demo.example"')}`);
    assert.equal(byExternal.body['totalResults'], 1);
    const none = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "0f3b1c2e-entra-test-connection"')}`);
    assert.equal(none.body['totalResults'], 0);
    const dup = await scim('POST', '/Users', entraUser('Dorthe@Demo.Example', 'other@demo.example', 'other'));
    assert.equal(dup.status, 409);
    assert.equal(dup.body['scimType'], 'uniqueness');
    const audit = (await auditEntries(gw.runtime.store)).filter((e) => e.subjectId === identity.id).map((e) => e.type);
    assert.deepEqual(audit.slice(0, 2), ['identity.created', 'scim.user-created']);
  });

  it('RFC 7644 §4 / issue 18: without GATEWAY_SCIM_GROUP_ROLES_FILE /Groups is not served (404) and neither /ResourceTypes nor /Schemas announce Group', async () => {
    const groups = await scim('GET', '/Groups');
    assert.equal(groups.status, 404);
    assert.equal(groups.body['status'], '404');
    assert.doesNotMatch(JSON.stringify((await scim('GET', '/ResourceTypes')).body), /"Group"/);
    assert.doesNotMatch(JSON.stringify((await scim('GET', '/Schemas')).body), /schemas:core:2\.0:Group/);
  });

  it('RFC 7644 §3.12: bad input gets a SCIM error with scimType, never a 5xx, and nothing is written', async () => {
    const before = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'identity.created').length;
    const noEmail = await scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'noemail@demo.example', name: { formatted: 'No Mail' } });
    assert.equal(noEmail.status, 400);
    assert.equal(noEmail.body['scimType'], 'invalidValue');
    const badFilter = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.body['scimType'], 'invalidFilter');
    const notJson = await fetch(`${gw.origin}/scim/v2/Users`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': SCIM }, body: '{"schemas": [' });
    assert.equal(notJson.status, 400);
    const takenAddress = await scim('POST', '/Users', entraUser('someone@demo.example', gw.seed.admin.email, 'someone'));
    assert.equal(takenAddress.status, 409);
    assert.equal(takenAddress.body['scimType'], 'uniqueness');
    assert.equal((await auditEntries(gw.runtime.store)).filter((e) => e.type === 'identity.created').length, before);
  });

  it('NSIS 3.2.3 (Low) 1: active=false from the directory (Entra casing) suspends every key of the person (binding-suspended), ends their sessions and refuses new enrolment links; active=true sends a fresh code and the holder reactivates with possession and the code (NSIS 3.2.3 (Low) 3)', async () => {
    const created = await scim('POST', '/Users', entraUser('sune@demo.example', 'sune@demo.example', 'sune'));
    assert.equal(created.status, 201);
    const id = String(created.body['id']);
    const person = await identityOf(id);
    // The org-admin issues the enrolment link by mail as for anyone; the person enrols and activates.
    assert.equal((await admin.client.post(`/api/admin/identities/${person.id}/enrolments`, {})).status, 201);
    const browser = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    const keyId = await enrol(gw, browser, auth, await gw.latestEnrolmentLink('sune@demo.example'));
    assert.equal((await activate(gw, browser, auth, 'sune@demo.example')).status, 200);
    assert.equal((await browser.get('/api/me')).status, 200);

    const off = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body['active'], false);
    const [key] = await keysOf(person.id);
    assert.equal(key?.state, 'suspended');
    assert.equal(key?.stateReason, 'binding-suspended');
    assert.equal((await browser.get('/api/me')).status, 401, 'the session ended');
    const refused = await signIn(gw, new ApiClient(gw.origin), auth, 'sune@demo.example');
    assert.notEqual(refused.status, 200, 'a suspended key signs nobody in');
    const noLink = await admin.client.post(`/api/admin/identities/${person.id}/enrolments`, {});
    assert.equal(noLink.status, 409, 'no new key while the directory keeps the person inactive');
    assert.equal(noLink.code, 'LIFECYCLE_BINDING_SUSPENDED');

    const on = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: true }] });
    assert.equal(on.status, 200);
    const [offered] = await keysOf(person.id);
    assert.equal(offered?.state, 'suspended', 'the directory alone never reactivates a key');
    assert.equal(offered?.stateReason, 'binding-resumed');
    const again = new ApiClient(gw.origin);
    assert.equal((await activate(gw, again, auth, 'sune@demo.example')).status, 200, 'possession plus the fresh second-channel code');
    assert.equal((await keysOf(person.id))[0]?.state, 'active');
    assert.equal(keyId, offered?.id);
    const types = (await auditEntries(gw.runtime.store)).filter((e) => e.subjectId === person.id).map((e) => e.type);
    assert.ok(types.includes('scim.person-suspended') && types.includes('scim.person-resumed'));
  });

  it('RFC 7644 §3.14: a write with a stale If-Match is refused 412 and changes nothing', async () => {
    const created = await scim('POST', '/Users', entraUser('etag@demo.example', 'etag@demo.example', 'etag'));
    const id = String(created.body['id']);
    const ok = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Add', path: 'displayName', value: 'Etag Person' }] }, { 'if-match': 'W/"1"' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('etag'), 'W/"2"');
    const stale = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }, { 'if-match': 'W/"1"' });
    assert.equal(stale.status, 412);
    assert.equal((await scim('GET', `/Users/${id}`)).body['active'], true);
  });

  it('NSIS 3.2.3 (Low) 4: a name change from the directory is an identifying-data correction: the keys are revoked as data-error; an email change is held for a staff member (NSIS 3.2.2 (High) 3)', async () => {
    const created = await scim('POST', '/Users', entraUser('navn@demo.example', 'navn@demo.example', 'navn'));
    const id = String(created.body['id']);
    const person = await identityOf(id);
    assert.equal((await admin.client.post(`/api/admin/identities/${person.id}/enrolments`, {})).status, 201);
    const browser = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    await enrol(gw, browser, auth, await gw.latestEnrolmentLink('navn@demo.example'));
    const renamed = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'Replace', value: { 'name.formatted': 'Dorthe Navneskift', 'name.familyName': 'Navneskift' } },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ny.adresse@demo.example' },
      ],
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    const after = await read(gw.runtime.store, (tx) => tx.identities.get(person.id));
    assert.equal(after?.name, 'Dorthe Navneskift');
    assert.equal(after?.email, 'navn@demo.example', 'the bound address stays until a staff member carries the change over');
    const [key] = await keysOf(person.id);
    assert.equal(key?.state, 'revoked');
    assert.equal(key?.stateReason, 'data-error');
    const overview = await admin.client.get('/api/admin/provisioning');
    const held = field<{ identityId: string; directoryEmail: string }[]>(overview.body, 'heldContactChanges');
    assert.ok(held.some((h) => h.identityId === person.id && h.directoryEmail === 'ny.adresse@demo.example'));
  });

  it('NSIS 5.2 (Low) 3: DELETE from the directory ends the binding: every key revoked, sessions ended; the SCIM resource is gone (404), the identity kept for the audit trail', async () => {
    const created = await scim('POST', '/Users', entraUser('slut@demo.example', 'slut@demo.example', 'slut'));
    const id = String(created.body['id']);
    const person = await identityOf(id);
    assert.equal((await admin.client.post(`/api/admin/identities/${person.id}/enrolments`, {})).status, 201);
    const browser = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    await enrol(gw, browser, auth, await gw.latestEnrolmentLink('slut@demo.example'));
    assert.equal((await activate(gw, browser, auth, 'slut@demo.example')).status, 200);
    const del = await fetch(`${gw.origin}/scim/v2/Users/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(del.status, 204);
    assert.equal((await scim('GET', `/Users/${id}`)).status, 404);
    const ended = await read(gw.runtime.store, (tx) => tx.identities.get(person.id));
    assert.equal(ended?.bindingState, 'ended');
    assert.equal((await keysOf(person.id))[0]?.state, 'revoked');
    assert.equal((await browser.get('/api/me')).status, 401);
    const types = (await auditEntries(gw.runtime.store)).filter((e) => e.subjectId === person.id).map((e) => e.type);
    assert.ok(types.includes('binding.ended') && types.includes('scim.user-deleted'));
  });

  it('issue 18: token rotation: a second token works, the revoked one is refused at once (401), revocation counts once (409)', async () => {
    const issued = await admin.client.post(`/api/admin/provisioning/clients/${clientId}/tokens`, { tokenDays: 10 });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const second = field<string>(issued.body, 'token', 'token');
    assert.equal((await scim('GET', '/Users', undefined, {}, second)).status, 200);
    const firstId = token.split('.')[1] ?? '';
    const revoked = await admin.client.post(`/api/admin/provisioning/clients/${clientId}/tokens/${firstId}/revoke`, {});
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal((await scim('GET', '/Users')).status, 401);
    const twice = await admin.client.post(`/api/admin/provisioning/clients/${clientId}/tokens/${firstId}/revoke`, {});
    assert.equal(twice.status, 409);
    assert.equal(twice.code, 'CONFLICT');
    assert.equal((await scim('GET', '/ServiceProviderConfig', undefined, {}, second)).status, 200);
    token = second;
  });
});
