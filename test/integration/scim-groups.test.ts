/**
 * Issue 18, inbound SCIM Groups over real HTTP into the running gateway (real store, real SoftHSM,
 * real WebAuthn ceremonies for the org-admins): directory groups mapped to staff roles by
 * GATEWAY_SCIM_GROUP_ROLES_FILE. Membership grants nothing by itself (NSIS 5.2 (Substantial) 8,
 * 4.1.5 (Substantial) 7): it is a request an org-admin sees and asks to grant, and a second
 * org-admin approves; leaving the group withdraws the role at once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { field, obj } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { bindAndEnrol, type Person } from '../support/staff.js';
import { auditEntries, read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const SCIM = 'application/scim+json';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface ScimAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

interface DirectoryRequest {
  identityId: string;
  role: string;
  groups: string[];
  grantWaiting: boolean;
  grantWith: { path: string; body: unknown };
}

describe('issue 18: SCIM Groups mapped to staff roles', () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let second: Person;
  let token = '';
  let foreignToken = '';
  let dir = '';
  let groupId = '';
  const people: Record<'ann' | 'bo' | 'cy' | 'foreign', { scimId: string; identityId: string }> = {
    ann: { scimId: '', identityId: '' },
    cy: { scimId: '', identityId: '' },
    bo: { scimId: '', identityId: '' },
    foreign: { scimId: '', identityId: '' },
  };

  const scim = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}, bearer = token): Promise<ScimAnswer> => {
    const res = await fetch(`${gw.origin}/scim/v2${p}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, accept: SCIM, ...(body !== undefined ? { 'content-type': SCIM } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? obj(JSON.parse(text)) : {} };
  };
  const register = async (label: string): Promise<string> => {
    const res = await admin.client.post('/api/admin/provisioning/clients', { label, ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person', tokenDays: 30 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return field<string>(res.body, 'token', 'token');
  };
  const createUser = async (who: keyof typeof people, bearer: string) => {
    const email = `${who}@demo.example`;
    const res = await scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: email, externalId: who, active: true, name: { givenName: who, familyName: 'Directory' }, emails: [{ primary: true, type: 'work', value: email }] }, {}, bearer);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const scimId = String(res.body['id']);
    const row = await read(gw.runtime.store, async (tx) => (await tx.identities.findActiveByEmail(email))?.id);
    assert.ok(row);
    people[who] = { scimId, identityId: row };
  };
  const rolesOf = async (identityId: string) => (await read(gw.runtime.store, (tx) => tx.identities.get(identityId)))?.roles ?? [];
  const requests = async () => {
    const res = await admin.client.get('/api/admin/scim-group-requests');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return field<DirectoryRequest[]>(res.body, 'requests');
  };
  const etag = async (id: string) => (await scim('GET', `/Groups/${id}`)).headers.get('etag') ?? '';
  const refusals = async () => (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'scim.refused');
  const entraAdd = (scimId: string) => ({ schemas: [PATCH_SCHEMA], Operations: [{ op: 'Add', path: 'members', value: [{ value: scimId }] }] });
  const entraRemove = (scimId: string) => ({ schemas: [PATCH_SCHEMA], Operations: [{ op: 'Remove', path: `members[value eq "${scimId}"]` }] });
  /** The second org-admin asks for the grant the directory asked for; the first approves it. */
  const grantAsked = async (identityId: string, role: string) => {
    const asked = (await requests()).find((r) => r.identityId === identityId && r.role === role);
    assert.ok(asked, 'the directory request is listed');
    const grant = await second.client.post(asked.grantWith.path, asked.grantWith.body);
    assert.equal(grant.status, 202, JSON.stringify(grant.body));
    const approvalId = field<string>(grant.body, 'approval', 'id');
    const ok = await admin.client.post(`/api/approvals/${approvalId}/approve`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scim-groups-'));
    const file = path.join(dir, 'group-roles.json');
    fs.writeFileSync(
      file,
      JSON.stringify([
        { displayName: 'GW Helpdesk', role: 'helpdesk' },
        { displayName: 'GW Helpdesk East', role: 'helpdesk' },
        { displayName: 'GW Security Officers', role: 'security-officer' },
      ]),
    );
    gw = await startTestGateway({ env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000', GATEWAY_SCIM_GROUP_ROLES_FILE: file } });
    admin = await activeAdmin(gw);
    token = await register('Entra ID (HR sync)');
    foreignToken = await register('Other directory');
    // Bootstrap: the one org-admin grants the second alone; from then on a grant takes two.
    second = await bindAndEnrol(gw, admin.client, { name: 'Second Admin', email: 'second.admin@demo.example', roles: ['org-admin'] });
    assert.equal(field(second.created.body, 'roles', 'state'), 'granted');
    await createUser('ann', token);
    await createUser('bo', token);
    await createUser('foreign', foreignToken);
  });
  after(async () => {
    await gw.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('RFC 7644 §4 / RFC 7643 §6: with a group-role table, /ResourceTypes and /Schemas announce Group and /Groups is served', async () => {
    const types = await scim('GET', '/ResourceTypes');
    assert.equal(types.status, 200);
    assert.ok(JSON.stringify(types.body).includes('"Group"'));
    const schemas = await scim('GET', '/Schemas');
    assert.ok(JSON.stringify(schemas.body).includes(GROUP_SCHEMA));
    assert.equal((await scim('GET', `/Schemas/${GROUP_SCHEMA}`)).status, 200);
    assert.equal((await scim('GET', '/ResourceTypes/Group')).status, 200);
    assert.equal((await scim('GET', '/Groups')).status, 200);
  });

  it('RFC 7644 §3.3 / issue 18: a group whose displayName is mapped is created (201, ETag, Location) with its members in one write; an unmapped displayName is 400 invalidValue, audited, nothing stored', async () => {
    const created = await scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Helpdesk', externalId: 'entra-helpdesk' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('etag'), 'W/"1"');
    groupId = String(created.body['id']);
    assert.equal(created.headers.get('location'), `${gw.origin}/scim/v2/Groups/${groupId}`);
    const unmapped = await scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'All Staff', members: [{ value: people.ann.scimId }] });
    assert.equal(unmapped.status, 400);
    assert.equal(unmapped.body['scimType'], 'invalidValue');
    assert.ok((await refusals()).some((e) => e.data['path'] === '/scim/v2/Groups' && e.data['scimType'] === 'invalidValue' && e.data['method'] === 'POST'));
    assert.equal((await read(gw.runtime.store, async (tx) => tx.scimGroups.find(String((await tx.identities.get(people.ann.identityId))?.organisationId), {}))).length, 1, 'only the mapped group is stored');
    const dup = await scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'gw helpdesk' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body['scimType'], 'uniqueness');
    const events = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'scim.group-created');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.data['role'], 'helpdesk');
    assert.equal(events[0]?.actorRole, 'provisioning');
  });

  it('RFC 7644 §3.4.2.2: Groups are found by displayName eq (not case-exact) and externalId eq; a malformed filter is 400 invalidFilter and audited', async () => {
    const byName = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "gw HELPDESK"')}`);
    assert.equal(byName.status, 200);
    assert.equal(byName.body['totalResults'], 1);
    const byExternal = await scim('GET', `/Groups?filter=${encodeURIComponent('externalId eq "entra-helpdesk"')}`);
    assert.equal(byExternal.body['totalResults'], 1);
    assert.equal((await scim('GET', `/Groups?filter=${encodeURIComponent('externalId eq "ENTRA-HELPDESK"')}`)).body['totalResults'], 0, 'externalId is case-exact');
    const bad = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body['scimType'], 'invalidFilter');
    assert.ok((await refusals()).some((e) => e.data['scimType'] === 'invalidFilter' && e.data['path'] === '/scim/v2/Groups'));
  });

  it('RFC 7644 §3.5.2 / NSIS 5.2 (Substantial) 8: a member added with Entra casing ("Add") grants nothing; the org-admin sees the directory request, asks for the grant, and a second org-admin approves it', async () => {
    const added = await scim('PATCH', `/Groups/${groupId}`, entraAdd(people.ann.scimId));
    assert.equal(added.status, 204, JSON.stringify(added.body));
    assert.equal(added.headers.get('etag'), 'W/"2"');
    assert.deepEqual(await rolesOf(people.ann.identityId), ['employee'], 'membership alone grants no role');
    const asked = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'scim.group-role-asked' && e.subjectId === people.ann.identityId);
    assert.equal(asked.length, 1);
    assert.equal(asked[0]?.data['role'], 'helpdesk');
    const listed = (await requests()).filter((r) => r.identityId === people.ann.identityId);
    assert.deepEqual(
      listed.map((r) => [r.role, r.groups, r.grantWaiting]),
      [['helpdesk', ['GW Helpdesk'], false]],
    );
    const employee = await second.client.get('/api/admin/scim-group-requests');
    assert.equal(employee.status, 200, 'any org-admin sees them');
    await grantAsked(people.ann.identityId, 'helpdesk');
    assert.ok((await rolesOf(people.ann.identityId)).includes('helpdesk'));
    assert.equal((await requests()).filter((r) => r.identityId === people.ann.identityId).length, 0, 'a held role is no longer asked for');
  });

  it('RFC 7644 §3.5.2 / NSIS 4.1.5 (Substantial) 7: removing the member (Entra "Remove" with members[value eq ...]) withdraws the role at once, unless another mapped group of theirs still asks for it; audited as the directory and the person told', async () => {
    const east = await scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Helpdesk East', members: [{ value: people.ann.scimId }] });
    assert.equal(east.status, 201, JSON.stringify(east.body));
    const eastId = String(east.body['id']);
    const removed = await scim('PATCH', `/Groups/${groupId}`, entraRemove(people.ann.scimId));
    assert.equal(removed.status, 204, JSON.stringify(removed.body));
    assert.ok((await rolesOf(people.ann.identityId)).includes('helpdesk'), 'GW Helpdesk East still asks for helpdesk');
    const toldBefore = (await gw.mailsTo('ann@demo.example')).filter((m) => m.kind === 'duty-executed').length;
    const gone = await scim('PATCH', `/Groups/${eastId}`, entraRemove(people.ann.scimId));
    assert.equal(gone.status, 204, JSON.stringify(gone.body));
    assert.deepEqual(await rolesOf(people.ann.identityId), ['employee'], 'withdrawn at once, no second person needed');
    const revoked = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'role.revoked' && e.subjectId === people.ann.identityId);
    assert.equal(revoked.length, 1);
    assert.equal(revoked[0]?.actorRole, 'provisioning');
    assert.equal(revoked[0]?.data['via'], 'directory');
    assert.equal(revoked[0]?.data['scimGroupId'], eastId);
    assert.equal((await gw.mailsTo('ann@demo.example')).filter((m) => m.kind === 'duty-executed').length, toldBefore + 1, 'the person is told (duties table, role-revoke)');
    const after = await scim('GET', `/Groups/${eastId}`);
    assert.deepEqual(after.body['members'], []);
  });

  it('RFC 7644 §3.14: a PUT or PATCH whose If-Match names an older version is 412 and changes nothing', async () => {
    const current = await etag(groupId);
    const put = await scim('PUT', `/Groups/${groupId}`, { schemas: [GROUP_SCHEMA], displayName: 'GW Helpdesk', members: [{ value: people.bo.scimId }] }, { 'if-match': 'W/"1"' });
    assert.equal(put.status, 412);
    const patch = await scim('PATCH', `/Groups/${groupId}`, entraAdd(people.bo.scimId), { 'if-match': 'W/"1"' });
    assert.equal(patch.status, 412);
    assert.equal(await etag(groupId), current, 'unchanged');
    assert.ok((await refusals()).some((e) => e.data['status'] === 412));
    const ok = await scim('PUT', `/Groups/${groupId}`, { schemas: [GROUP_SCHEMA], displayName: 'GW Helpdesk', externalId: 'entra-helpdesk', members: [] }, { 'if-match': current });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('RFC 7644 §3.12 / NSIS 5.2 (Substantial) 8: a member this client did not provision, or no User at all, is 400 invalidValue; nothing is stored and the refusal is audited', async () => {
    const before = await etag(groupId);
    const foreign = await scim('PATCH', `/Groups/${groupId}`, entraAdd(people.foreign.scimId));
    assert.equal(foreign.status, 400, JSON.stringify(foreign.body));
    assert.equal(foreign.body['scimType'], 'invalidValue');
    const nobody = await scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Security Officers', members: [{ value: people.bo.scimId }, { value: 'no-such-user' }] });
    assert.equal(nobody.status, 400);
    assert.equal(nobody.body['scimType'], 'invalidValue');
    assert.equal((await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "GW Security Officers"')}`)).body['totalResults'], 0, 'nothing stored');
    assert.equal(await etag(groupId), before);
    assert.equal((await requests()).some((r) => r.identityId === people.bo.identityId || r.identityId === people.foreign.identityId), false, 'no request for a refused write');
    const seen = (await refusals()).filter((e) => e.data['scimType'] === 'invalidValue');
    assert.ok(seen.some((e) => e.data['method'] === 'PATCH'));
    assert.ok(seen.some((e) => e.data['method'] === 'POST'));
    const other = await scim('GET', `/Groups/${groupId}`, undefined, {}, foreignToken);
    assert.equal(other.status, 200, 'one organisation: the group is visible to its other directory');
    const hostile = await scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Add', path: 'members[value eq "x" or', value: [] }] });
    assert.equal(hostile.status, 400);
    assert.ok(typeof hostile.body['scimType'] === 'string');
  });

  it('RFC 7644 §3.6 / NSIS 4.1.5 (Substantial) 7: deleting a group is 204, it is gone (404), and a role only it asked for is withdrawn at once', async () => {
    assert.equal((await scim('PATCH', `/Groups/${groupId}`, entraAdd(people.bo.scimId))).status, 204);
    await grantAsked(people.bo.identityId, 'helpdesk');
    assert.ok((await rolesOf(people.bo.identityId)).includes('helpdesk'));
    const stale = await scim('DELETE', `/Groups/${groupId}`, undefined, { 'if-match': 'W/"1"' });
    assert.equal(stale.status, 412);
    const deleted = await scim('DELETE', `/Groups/${groupId}`);
    assert.equal(deleted.status, 204);
    assert.equal((await scim('GET', `/Groups/${groupId}`)).status, 404);
    assert.deepEqual(await rolesOf(people.bo.identityId), ['employee']);
    const events = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'scim.group-deleted');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.data['revoked'], 1);
  });

  it('RFC 7644 §3.5.2 / NSIS 5.2 (Low) 3: a member whose User the directory deleted does not lock the group: later writes go on, and the ended person is asked nothing', async () => {
    await createUser('cy', token);
    const group = await scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Security Officers', members: [{ value: people.cy.scimId }] });
    assert.equal(group.status, 201, JSON.stringify(group.body));
    const id = String(group.body['id']);
    assert.equal((await scim('DELETE', `/Users/${people.cy.scimId}`)).status, 204);
    assert.equal((await requests()).some((r) => r.identityId === people.cy.identityId), false, 'no request for an ended binding');
    const added = await scim('PATCH', `/Groups/${id}`, entraAdd(people.bo.scimId));
    assert.equal(added.status, 204, JSON.stringify(added.body));
    assert.deepEqual((await requests()).filter((r) => r.identityId === people.bo.identityId).map((r) => r.role), ['security-officer']);
    const readd = await scim('PUT', `/Groups/${id}`, { schemas: [GROUP_SCHEMA], displayName: 'GW Security Officers', members: [{ value: people.bo.scimId }, { value: people.foreign.scimId }] });
    assert.equal(readd.status, 400, 'a new member is still checked');
    assert.equal(readd.body['scimType'], 'invalidValue');
  });
});
