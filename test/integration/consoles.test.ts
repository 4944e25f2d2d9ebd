/**
 * Authority rules of the helpdesk and organisation-admin consoles (issue: consoles), over the
 * real API: roles, step-up, segregation of duties, rate limits, four-eyes bulk actions,
 * replacement keys, identity corrections and CSV import.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activate, activeAdmin, activeEmployee, enrol, signIn } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { read } from '../support/storeReads.js';

describe('helpdesk and admin consoles: authority rules', () => {
  let gw: TestGateway;
  let clock: FixedClock;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let helper: Awaited<ReturnType<typeof activeEmployee>>;
  let n = 0;
  const email = () => `person${++n}@demo.example`;
  const state = async (id: string) => (await read(gw.runtime.store, (tx) => tx.credentials.get(id)))?.state;
  /** A fresh key touch, as the console does when asked to step up. */
  const touch = async (who: { client: ApiClient; auth: SoftAuthenticator; email: string }) =>
    assert.equal((await signIn(gw, who.client, who.auth, who.email)).status, 200);

  before(async () => {
    clock = new FixedClock(new Date());
    gw = await startTestGateway({
      clock,
      env: { GATEWAY_HELPDESK_ACTIONS_PER_HOUR: '4', GATEWAY_BULK_APPROVAL_THRESHOLD: '2', GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000' },
    });
    admin = await activeAdmin(gw);
    const created = await admin.client.post('/api/admin/identities', { name: 'Second Helpdesk', email: 'hd2@demo.example', ial: 'substantial', proofingMethod: 'ID checked by HR', roles: ['helpdesk'] });
    assert.equal(created.status, 201);
    const id = field<string>(created.body, 'identity', 'id');
    assert.equal((await admin.client.post(`/api/admin/identities/${id}/enrolments`, {})).status, 201);
    const link = await gw.latestEnrolmentLink('hd2@demo.example');
    const client = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    const keyId = await enrol(gw, client, auth, link);
    assert.equal((await activate(gw, client, auth, 'hd2@demo.example')).status, 200);
    helper = { client, auth, keyId, identityId: id, email: 'hd2@demo.example' };
  });
  after(async () => {
    await gw.close();
  });

  it('roles are checked on the server: an employee is refused every helpdesk and admin API', async () => {
    const emp = await activeEmployee(gw, admin.client, email());
    for (const [method, path] of [
      ['GET', '/api/helpdesk/identities?q=a'],
      ['GET', `/api/helpdesk/identities/${admin.keyId}`],
      ['GET', '/api/helpdesk/approvals'],
      ['POST', '/api/helpdesk/bulk'],
      ['POST', `/api/helpdesk/identities/${emp.identityId}/replacement`],
      ['GET', '/api/admin/identities?q=a'],
      ['POST', '/api/admin/identities/import'],
      ['PATCH', `/api/admin/identities/${emp.identityId}`],
      ['POST', `/api/admin/identities/${emp.identityId}/roles`],
    ] as const) {
      const res = await emp.client.request(method, path, method === 'GET' ? undefined : {});
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.code, 'ROLE_REQUIRED', `${method} ${path}`);
    }
  });

  it('roles are granted and revoked by an organisation admin, audited, and take effect at once', async () => {
    await touch(admin);
    const emp = await activeEmployee(gw, admin.client, email());
    const grant = await admin.client.post(`/api/admin/identities/${emp.identityId}/roles`, { role: 'helpdesk', grant: true });
    assert.equal(grant.status, 200);
    assert.ok(field<string[]>(grant.body, 'identity', 'roles').includes('helpdesk'));
    assert.equal((await emp.client.get('/api/helpdesk/approvals')).status, 200);
    await admin.client.post(`/api/admin/identities/${emp.identityId}/roles`, { role: 'helpdesk', grant: false });
    assert.equal((await emp.client.get('/api/helpdesk/approvals')).status, 403);
    const types = (await read(gw.runtime.store, (tx) => tx.audit.forPerson(emp.identityId))).map((e) => e.type);
    assert.ok(types.includes('role.granted') && types.includes('role.revoked'));
  });

  it('NSIS 6 (Low) 6: a new sign-in in the same browser ends the session it replaces', async () => {
    await touch(admin);
    await touch(admin);
    assert.equal((await read(gw.runtime.store, (tx) => tx.sessions.liveOfIdentity(gw.seed.admin.id))).length, 1);
  });

  it('NSIS 3.1.2 (Substantial) 8: console actions need a security-key sign-in within the step-up window', async () => {
    await touch(admin);
    const emp = await activeEmployee(gw, admin.client, email());
    clock.advance(6 * 60_000);
    const stale = await admin.client.post(`/api/helpdesk/credentials/${emp.keyId}/suspend`, { reason: 'lost' });
    assert.equal(stale.status, 401);
    assert.equal(stale.code, 'STEP_UP_REQUIRED');
    assert.equal((await state(emp.keyId)), 'active');
    assert.equal((await admin.client.get('/api/helpdesk/approvals')).status, 200, 'reading needs no step-up');
    await touch(admin);
    assert.equal((await admin.client.post(`/api/helpdesk/credentials/${emp.keyId}/suspend`, { reason: 'lost' })).status, 200);
  });

  it('segregation of duties: nobody uses staff powers on their own keys, roles or enrolments', async () => {
    await touch(admin);
    const own = await admin.client.post(`/api/helpdesk/credentials/${admin.keyId}/suspend`, { reason: 'lost' });
    assert.equal(own.status, 403);
    assert.equal(own.code, 'SEGREGATION_OF_DUTIES');
    const role = await admin.client.post(`/api/admin/identities/${gw.seed.admin.id}/roles`, { role: 'helpdesk', grant: false });
    assert.equal(role.code, 'SEGREGATION_OF_DUTIES');
    const enrolSelf = await admin.client.post(`/api/admin/identities/${gw.seed.admin.id}/enrolments`, {});
    assert.equal(enrolSelf.code, 'SEGREGATION_OF_DUTIES');
    const bulkSelf = await admin.client.post('/api/helpdesk/bulk', { action: 'suspend', credentialIds: [admin.keyId], reason: 'lost' });
    assert.equal(bulkSelf.code, 'SEGREGATION_OF_DUTIES');
    const endSelf = await admin.client.post(`/api/admin/identities/${gw.seed.admin.id}/end-binding`, { reason: 'employment-ended' });
    assert.equal(endSelf.code, 'SEGREGATION_OF_DUTIES');
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.get(gw.seed.admin.id)))?.bindingState, 'active');
    assert.equal((await state(admin.keyId)), 'active');
  });

  it('segregation of duties: the person who issued an enrolment cannot activate it on the holder’s behalf', async () => {
    await touch(admin);
    const addr = email();
    const created = await admin.client.post('/api/admin/identities', { name: 'Victim', email: addr, ial: 'substantial', proofingMethod: 'HR check' });
    const id = field<string>(created.body, 'identity', 'id');
    // The explicit "hand over in person" choice is the only way the issuer sees the link.
    const link = field<string>((await admin.client.post(`/api/admin/identities/${id}/enrolments`, { delivery: 'handover' })).body, 'link');
    const auth = new SoftAuthenticator();
    const keyId = await enrol(gw, admin.client, auth, link);
    const res = await activate(gw, admin.client, auth, addr);
    assert.equal(res.status, 403);
    assert.equal(res.code, 'SEGREGATION_OF_DUTIES');
    assert.equal((await state(keyId)), 'issued');
  });

  it('NSIS 3.2.3 (Low) 2: each operator is rate-limited; the holder’s own report is not', async () => {
    await touch(helper);
    const emps = [];
    await touch(admin);
    for (let i = 0; i < 5; i++) emps.push(await activeEmployee(gw, admin.client, email()));
    const codes = [];
    for (const e of emps) codes.push((await helper.client.post(`/api/helpdesk/credentials/${e.keyId}/suspend`, { reason: 'lost' })).status);
    assert.deepEqual(codes, [200, 200, 200, 200, 429]);
    const limited = await helper.client.post(`/api/helpdesk/credentials/${emps[4]?.keyId ?? ''}/revoke`, { reason: 'lost' });
    assert.equal(limited.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    const self = await emps[4]?.client.post(`/api/me/credentials/${emps[4]?.keyId ?? ''}/report-lost`, {});
    assert.equal(self?.status, 200, 'suspension by the holder works around the clock (NSIS 3.2.3 (Substantial) 6)');
    clock.advance(61 * 60_000);
  });

  it('NSIS 3.2.3 (Low) 2: a bulk action on more than a handful of keys waits for a second approver', async () => {
    await touch(admin);
    await touch(helper);
    const emps = [];
    for (let i = 0; i < 3; i++) emps.push(await activeEmployee(gw, admin.client, email()));
    const ids = emps.map((e) => e.keyId);
    const res = await helper.client.post('/api/helpdesk/bulk', { action: 'suspend', credentialIds: ids, reason: 'suspected-compromise', note: 'stolen laptops bag' });
    assert.equal(res.status, 202);
    const approvalId = field<string>(res.body, 'approval', 'id');
    assert.ok((await Promise.all(ids.map(state))).every((s) => s === 'active'), 'nothing happens before approval');
    const self = await helper.client.post(`/api/helpdesk/approvals/${approvalId}/approve`, {});
    assert.equal(self.status, 403);
    const ok = await admin.client.post(`/api/helpdesk/approvals/${approvalId}/approve`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok((await Promise.all(ids.map(state))).every((s) => s === 'suspended'));
    assert.equal((await admin.client.post(`/api/helpdesk/approvals/${approvalId}/approve`, {})).status, 409);
    // Not above the threshold: runs at once, and (unlike the approved bulk) counts against the
    // operator's hourly limit, so it is done by an operator with actions to spare.
    const small = await admin.client.post('/api/helpdesk/bulk', { action: 'revoke', credentialIds: ids.slice(0, 2), reason: 'suspected-compromise' });
    assert.equal(small.status, 200);
    assert.deepEqual(field<{ ok: boolean }[]>(small.body, 'results').map((r) => r.ok), [true, true]);
  });

  it('NSIS 3.2.4: a replacement based on another active key; the lost key is revoked as replaced once the new one is active', async () => {
    await touch(admin);
    const emp = await activeEmployee(gw, admin.client, email());
    const noBasis = await helper.client.post(`/api/helpdesk/identities/${emp.identityId}/replacement`, { basis: 'active-key', replacesCredentialId: emp.keyId });
    assert.equal(noBasis.status, 409, 'the key being replaced is no basis for its own replacement');
    const spare = new SoftAuthenticator();
    await admin.client.post(`/api/admin/identities/${emp.identityId}/enrolments`, {});
    const spareKey = await enrol(gw, new ApiClient(gw.origin), spare, await gw.latestEnrolmentLink(emp.email), 'Spare');
    assert.equal((await activate(gw, new ApiClient(gw.origin), spare, emp.email)).status, 200);
    await emp.client.post(`/api/me/credentials/${emp.keyId}/report-lost`, {});
    await touch(helper);
    const res = await helper.client.post(`/api/helpdesk/identities/${emp.identityId}/replacement`, { basis: 'active-key', replacesCredentialId: emp.keyId });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(field(res.body, 'delivery'), 'mail');
    assert.equal(field(res.body, 'link'), undefined, 'by default the link goes to the person, not to the helpdesk');
    const fresh = new SoftAuthenticator();
    const newKey = await enrol(gw, new ApiClient(gw.origin), fresh, await gw.latestEnrolmentLink(emp.email), 'Replacement');
    assert.equal((await state(emp.keyId)), 'suspended', 'not revoked before the new key is active');
    assert.equal((await activate(gw, new ApiClient(gw.origin), fresh, emp.email)).status, 200);
    assert.equal((await state(newKey)), 'active');
    assert.equal((await state(emp.keyId)), 'revoked');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.stateReason, 'replaced');
    assert.equal((await state(spareKey)), 'active');
  });

  it('NSIS 5.1: a replacement approved by a second person, recorded, without new identity proofing', async () => {
    await touch(admin);
    const emp = await activeEmployee(gw, admin.client, email());
    await touch(helper);
    const res = await helper.client.post(`/api/helpdesk/identities/${emp.identityId}/replacement`, {
      basis: 'second-approval',
      replacesCredentialId: emp.keyId,
      revokeNow: true,
      note: 'manager Mette approved by phone',
      delivery: 'handover',
    });
    assert.equal(res.status, 202);
    const id = field<string>(res.body, 'approval', 'id');
    const ok = await admin.client.post(`/api/helpdesk/approvals/${id}/approve`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.match(field<string>(ok.body, 'link'), /enrol\.html#token=/);
    assert.doesNotMatch(field<string>(ok.body, 'approval', 'result'), /token=/, 'the shared list never holds the one-time link');
    assert.equal((await state(emp.keyId)), 'revoked', 'revoked at once as asked');
    const listed = await helper.client.get('/api/helpdesk/approvals');
    const row = field<{ id: string; decidedByName: string }[]>(listed.body, 'approvals').find((a) => a.id === id);
    assert.equal(row?.decidedByName, 'First Administrator');
  });

  it('NSIS 3.2.3 (Low) 4: correcting identifying data revokes keys issued on it (data-error); a contact change only waits for a second person', async () => {
    await touch(admin);
    const emp = await activeEmployee(gw, admin.client, email());
    const contact = await admin.client.patch(`/api/admin/identities/${emp.identityId}`, { email: `new.${emp.email}` });
    assert.equal(contact.status, 202);
    assert.equal(field(contact.body, 'approval', 'kind'), 'contact-change');
    assert.equal(field(contact.body, 'revokedKeys'), 0);
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.get(emp.identityId)))?.email, emp.email, 'nothing changes before a second person approves');
    assert.equal((await state(emp.keyId)), 'active');
    const named = await admin.client.patch(`/api/admin/identities/${emp.identityId}`, { name: 'Corrected Name', note: 'name misspelt at proofing' });
    assert.equal(named.status, 200);
    assert.equal(field(named.body, 'revokedKeys'), 1);
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.stateReason, 'data-error');
  });

  it('CSV import is validated row by row and all-or-nothing, its problems in the reader\'s language (issue 16); people already bound are skipped with the reason', async () => {
    await touch(admin);
    const bad = await admin.client.post('/api/admin/identities/import', {
      csv: 'name,email,ial,proofing_method\nAnn,ann@demo.example,substantial,HR check\nBob,not-an-email,substantial,HR check\nCy,cy@demo.example,extreme,HR check\n',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'IMPORT_INVALID');
    const paths = field<{ path: string }[]>(bad.body, 'errors').map((e) => e.path);
    assert.deepEqual(paths, ['row 3 email', 'row 4 ial']);
    assert.deepEqual(field<{ message: string }[]>(bad.body, 'errors').map((e) => e.message), ['not an email address', 'must be low, substantial or high']);
    // Issue 16: the same problems in the reader's language (gw_lang), paths unchanged.
    admin.client.setCookie('gw_lang', 'da');
    const danish = await admin.client.post('/api/admin/identities/import', {
      csv: 'name,email,ial,proofing_method\nAnn,ann@demo.example,substantial,HR check\nBob,not-an-email,substantial,HR check\nCy,cy@demo.example,extreme,HR check\n',
    });
    admin.client.dropCookie('gw_lang');
    assert.equal(danish.code, 'IMPORT_INVALID');
    assert.deepEqual(field<{ path: string; message: string }[]>(danish.body, 'errors'), [
      { path: 'row 3 email', message: 'ikke en e-mailadresse' },
      { path: 'row 4 ial', message: 'skal være low, substantial eller high' },
    ]);
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.findActiveByEmail('ann@demo.example'))), undefined, 'nothing half-imported');
    const ok = await admin.client.post('/api/admin/identities/import', {
      csv: 'name,email,ial,proofing_method,roles\n"Hansen, Ann",ann@demo.example,substantial,"ID checked, in person",helpdesk\nAdmin Again,admin@demo.example,substantial,HR check\n',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(field<unknown[]>(ok.body, 'created').length, 1);
    assert.deepEqual(field(ok.body, 'skipped', '0', 'reason'), 'already bound to the organisation');
    const ann = (await read(gw.runtime.store, (tx) => tx.identities.findActiveByEmail('ann@demo.example')));
    assert.equal(ann?.name, 'Hansen, Ann');
    assert.ok(ann?.roles.includes('helpdesk'));
  });

  it('the helpdesk finds a person and sees keys, state history with who and why, and the audit trail', async () => {
    clock.advance(61 * 60_000);
    await touch(admin);
    const emp = await activeEmployee(gw, admin.client, email(), 'Findable Person');
    await touch(helper);
    await helper.client.post(`/api/helpdesk/credentials/${emp.keyId}/suspend`, { reason: 'lost', note: 'called in' });
    const found = await helper.client.get('/api/helpdesk/identities?q=findable');
    assert.equal(field<unknown[]>(found.body, 'identities').length, 1);
    const detail = await helper.client.get(`/api/helpdesk/identities/${emp.identityId}`);
    const history = field<{ action: string; actorName: string | null; reason: string; note: string | null }[]>(detail.body, 'credentials', '0', 'history');
    assert.deepEqual(history.map((h) => h.action), ['issue', 'activate', 'suspend']);
    assert.equal(history[2]?.actorName, 'Second Helpdesk');
    assert.equal(history[2]?.note, 'called in');
    const trail = await helper.client.get(`/api/helpdesk/identities/${emp.identityId}/audit`);
    assert.ok(field<{ type: string }[]>(trail.body, 'events').some((e) => e.type === 'credential.suspend'));
  });

  it('NSIS 3.2.3 (Low) 3: "I found it": the employee, signed in with another key, gets a fresh code and reactivates the found key', async () => {
    await touch(admin);
    const emp = await activeEmployee(gw, admin.client, email());
    const spare = new SoftAuthenticator();
    await admin.client.post(`/api/admin/identities/${emp.identityId}/enrolments`, {});
    await enrol(gw, new ApiClient(gw.origin), spare, await gw.latestEnrolmentLink(emp.email), 'Spare');
    const spareClient = new ApiClient(gw.origin);
    assert.equal((await activate(gw, spareClient, spare, emp.email)).status, 200);
    assert.equal((await spareClient.post(`/api/me/credentials/${emp.keyId}/report-lost`, {})).status, 200);
    const res = await spareClient.post(`/api/me/credentials/${emp.keyId}/found`, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await activate(gw, new ApiClient(gw.origin), emp.auth, emp.email)).status, 200);
    assert.equal((await state(emp.keyId)), 'active');
  });
});
