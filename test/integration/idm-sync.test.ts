/**
 * Issue 18, outbound: the running gateway keeps MitID Erhverv in step through the IdM API
 * contract server (real HTTPS with mTLS against a test CA). A person created by SCIM appears there
 * with the LocalIdentityProvider authenticator and the subject name id; active=false suspends
 * them there; a failing API is retried; DELETE deletes them there. Jobs are queued in the
 * transaction of the change and run by the gateway's IdM dispatcher.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { field, obj } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { type IdmHarness, startIdm } from '../support/idmHarness.js';
import { auditEntries, read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('issue 18: the outbound sync to MitID Erhverv, against the IdM contract server', { timeout: 300_000 }, () => {
  let idm: IdmHarness;
  let gw: TestGateway;
  let token = '';
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  const clock = new FixedClock(new Date());

  const scim = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.origin}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? obj(JSON.parse(text)) : {} };
  };
  const dispatcher = () => {
    const d = gw.runtime.idm;
    assert.ok(d, 'the sync is on');
    return d;
  };
  const employeeWith = (subjectNameId: string) =>
    [...idm.server.employees.values()].find((e) => e.authenticators.some((a) => a.type === 'LocalIdentityProvider' && a.id === subjectNameId));

  before(async () => {
    idm = await startIdm();
    gw = await startTestGateway({ clock, env: { ...idm.env(), GATEWAY_IDM_SUBJECT_NAME_ID_SUFFIX: '@demo.example', GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000', GATEWAY_STEP_UP_MINUTES: '60' } });
    admin = await activeAdmin(gw);
    const res = await admin.client.post('/api/admin/provisioning/clients', { label: 'Entra ID', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person' });
    assert.equal(res.status, 201);
    token = field<string>(res.body, 'token', 'token');
  });
  after(async () => {
    await gw?.close();
    await idm?.close();
  });

  it('issue 18 / NSIS 5.2: a person bound by SCIM appears at MitID Erhverv with the LocalIdentityProvider authenticator and the subject name id, once', async () => {
    const created = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'mette@demo.example',
      externalId: 'mette',
      name: { givenName: 'Mette', familyName: 'Frederiksen Hansen', formatted: 'Mette Frederiksen Hansen' },
      emails: [{ type: 'work', value: 'mette@demo.example', primary: true }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const scimId = String(created.body['id']);
    const row = await read(gw.runtime.store, async (tx) => {
      const identity = await tx.identities.findActiveByEmail('mette@demo.example');
      return identity ? tx.scimUsers.get(identity.organisationId, scimId) : undefined;
    });
    assert.ok(row);
    const person = await read(gw.runtime.store, (tx) => tx.idm.person(row.identityId));
    assert.equal(person?.subjectNameId, 'mette@demo.example', 'externalId + the configured suffix, frozen with the person');
    assert.ok(await dispatcher().runOnce() >= 1);
    const there = employeeWith('mette@demo.example');
    assert.ok(there, 'created at MitID Erhverv');
    assert.equal(there.givenName, 'Mette');
    assert.equal(there.surname, 'Frederiksen Hansen');
    assert.equal(there.status, 'Active');
    assert.equal((await read(gw.runtime.store, (tx) => tx.idm.person(row.identityId)))?.employeeUuid, there.uuid, 'the employee uuid is recorded');
    assert.equal(await dispatcher().runOnce(), 0, 'nothing is sent twice');
    assert.equal(idm.server.effects.filter((e) => e.kind === 'create' && e.uuid === there.uuid).length, 1);
    assert.equal(idm.server.callsTo('POST', /\/employee$/).filter((c) => JSON.stringify(c.body).includes('mette@demo.example')).length, 1, 'created by one call');

    // NSIS 3.2.3: the directory suspends the person: suspended at MitID Erhverv too; a 500 first is retried.
    idm.server.fail({ method: 'PUT', path: /\/suspend$/, times: 1, fault: { kind: 'status', status: 500 } });
    const off = await scim('PATCH', `/Users/${scimId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    assert.equal(off.status, 200);
    await dispatcher().runOnce();
    const suspend = async () => (await read(gw.runtime.store, (tx) => tx.idm.jobsOf(row.identityId))).find((j) => j.kind === 'suspend-person');
    assert.equal((await suspend())?.state, 'pending', 'a 500 is retried later, with backoff');
    assert.match((await suspend())?.lastError ?? '', /IDM_SERVER_ERROR/);
    assert.equal(employeeWith('mette@demo.example')?.status, 'Active');
    clock.advance(3600_000);
    await dispatcher().runOnce();
    assert.equal((await suspend())?.state, 'done');
    assert.equal(employeeWith('mette@demo.example')?.status, 'Suspended', 'suspended at MitID Erhverv too');
    assert.equal(idm.server.effects.filter((e) => e.kind === 'suspend' && e.uuid === there.uuid).length, 1, 'suspended once');
  });

  it('NSIS 5.2 (Low) 3: DELETE by the directory ends the binding and deletes the employee at MitID Erhverv', async () => {
    const created = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'ole@demo.example',
      externalId: 'ole',
      name: { formatted: 'Ole Olsen' },
      emails: [{ type: 'work', value: 'ole@demo.example', primary: true }],
    });
    assert.equal(created.status, 201);
    await dispatcher().runOnce();
    assert.ok(employeeWith('ole@demo.example'));
    const del = await fetch(`${gw.origin}/scim/v2/Users/${String(created.body['id'])}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(del.status, 204);
    await dispatcher().runOnce();
    assert.equal(employeeWith('ole@demo.example'), undefined, 'deleted there');
    const types = (await auditEntries(gw.runtime.store)).map((e) => e.type);
    assert.ok(types.includes('idm.job-done'));
    // The admin page's view: the sync is on, jobs by state, the newest with person and subject name id.
    const overview = await admin.client.get('/api/admin/provisioning');
    assert.equal(overview.status, 200);
    assert.equal(field(overview.body, 'idm', 'enabled'), true);
    const jobs = field<{ kind: string; state: string; subjectNameId: string | null }[]>(overview.body, 'idm', 'jobs');
    assert.ok(jobs.some((j) => j.kind === 'end-binding' && j.state === 'done' && j.subjectNameId === 'ole@demo.example'));
  });
});
