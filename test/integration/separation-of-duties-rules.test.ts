/**
 * The duties table at work over the real API: bootstrap and its end, approvals by an independent
 * second person, what a carried-out contact change does, staff roles at creation and import, and
 * the possession factor and the second channel never both passing through one staff member.
 */
import assert from 'node:assert/strict';
import { auditEntries } from '../support/storeReads.js';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, enrol } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { bindAndEnrol, touch, type Person } from '../support/staff.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { dbRun } from '../support/dbInspection.js';
import { read } from '../support/storeReads.js';

interface Control {
  action: string;
  on: boolean;
  pool: number;
}

describe('separation of duties: the table at work', () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let second: Person;
  let colleague: Person;
  const control = async (who: ApiClient, action: string) =>
    field<Control[]>((await who.get('/api/duties')).body, 'status', 'controls').find((c) => c.action === action);

  before(async () => {
    gw = await startTestGateway({ clock: new FixedClock(new Date()), env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000' } });
    admin = await activeAdmin(gw);
  });
  after(async () => {
    await gw.close();
  });

  it('NSIS 5.2 (Substantial) 8: in bootstrap the one org-admin grants staff roles alone (audited); from two org-admins on, a grant waits for the second', async () => {
    const bootstrap = await control(admin.client, 'role-grant');
    assert.deepEqual([bootstrap?.pool, bootstrap?.on], [1, false], 'one org-admin: two-person control for staff roles is off');
    assert.equal((await control(admin.client, 'hsm-key-rotation'))?.on, false, 'one security officer: key management is single-person');
    assert.equal((await control(admin.client, 'contact-change'))?.on, true, 'contact changes have no bootstrap exception');
    second = await bindAndEnrol(gw, admin.client, { name: 'Second Admin', email: 'second.admin@demo.example', roles: ['org-admin'] });
    assert.equal(field(second.created.body, 'roles', 'state'), 'granted');
    assert.equal((await control(admin.client, 'role-grant'))?.on, true);
    // The second admin binds a helpdesk colleague: the role waits, and the first admin approves.
    colleague = await bindAndEnrol(gw, second.client, { name: 'Carla Colleague', email: 'carla@demo.example', roles: ['helpdesk'] });
    assert.equal(field(colleague.created.body, 'roles', 'state'), 'pending');
    assert.deepEqual((await read(gw.runtime.store, (tx) => tx.identities.get(colleague.identityId)))?.roles, ['employee'], 'bound at once as an employee only');
    const id = field<string>(colleague.created.body, 'roles', 'approval', 'id');
    assert.equal((await second.client.post(`/api/approvals/${id}/approve`, {})).code, 'SEGREGATION_OF_DUTIES');
    const ok = await admin.client.post(`/api/approvals/${id}/approve`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok((await read(gw.runtime.store, (tx) => tx.identities.get(colleague.identityId)))?.roles.includes('helpdesk'));
    assert.equal((await gw.mailsTo(colleague.email)).at(-1)?.kind, 'duty-executed', 'the person is told');
  });

  it('NSIS 5.2 (Substantial) 8: a grant by the first admin waits for an org-admin the first admin did not set up; the second admin, set up by the first, is refused', async () => {
    await touch(gw, admin);
    const emp = await activeEmployee(gw, admin.client, 'plain@demo.example', 'Plain Person');
    const grant = await admin.client.post(`/api/admin/identities/${emp.identityId}/roles`, { role: 'security-officer', grant: true });
    assert.equal(grant.status, 202, JSON.stringify(grant.body));
    const id = field<string>(grant.body, 'approval', 'id');
    const bySecond = await second.client.post(`/api/approvals/${id}/approve`, {});
    assert.equal(bySecond.status, 403);
    assert.equal(bySecond.code, 'SEGREGATION_OF_DUTIES');
    const byHelpdesk = await colleague.client.post(`/api/approvals/${id}/approve`, {});
    assert.equal(byHelpdesk.status, 403);
    assert.equal(byHelpdesk.code, 'ROLE_REQUIRED', 'granting staff roles is approved by an org-admin only');
    const listed = field<{ id: string; canApprove: boolean; cannotApprove: string }[]>((await second.client.get('/api/approvals')).body, 'approvals').find((a) => a.id === id);
    assert.equal(listed?.canApprove, false);
    assert.match(listed?.cannotApprove ?? '', /created or changed your identity/);
    // The requester may withdraw it.
    const withdrawn = await admin.client.post(`/api/approvals/${id}/reject`, {});
    assert.equal(withdrawn.status, 200);
    assert.equal(field(withdrawn.body, 'approval', 'result'), 'withdrawn by the requester');
  });

  it('NSIS 3.2.2 (High) 3: a contact change approved by an independent staff member takes effect, withdraws open codes and links, and tells the old and the new address', async () => {
    await touch(gw, admin);
    const emp = await activeEmployee(gw, admin.client, 'moving@demo.example', 'Mona Moving');
    // An open enrolment link and an open activation code, both sent to the old address.
    await admin.client.post(`/api/admin/identities/${emp.identityId}/enrolments`, {});
    const spareKey = await enrol(gw, new ApiClient(gw.origin), new SoftAuthenticator(), await gw.latestEnrolmentLink(emp.email), 'Spare');
    await admin.client.post(`/api/admin/identities/${emp.identityId}/enrolments`, {});
    assert.ok((await read(gw.runtime.store, (tx) => tx.codes.latestOpen(spareKey))));
    const asked = await admin.client.patch(`/api/admin/identities/${emp.identityId}`, { email: 'mona.new@demo.example', note: 'married' });
    assert.equal(asked.status, 202);
    const id = field<string>(asked.body, 'approval', 'id');
    const ok = await colleague.client.post(`/api/approvals/${id}/approve`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.get(emp.identityId)))?.email, 'mona.new@demo.example');
    assert.equal((await read(gw.runtime.store, (tx) => tx.codes.latestOpen(spareKey))), undefined, 'the open code is withdrawn');
    const link = (await gw.mailsTo(emp.email)).filter((m) => m.kind === 'enrolment-link').at(-1);
    const token = /#token=([A-Za-z0-9_-]+)/.exec(link?.text ?? '')?.[1] ?? '';
    const dead = await new ApiClient(gw.origin).post('/api/enrolment/options', { token });
    assert.equal(dead.status, 400, 'the open link is withdrawn');
    assert.equal(dead.code, 'ENROLMENT_INVALID');
    assert.equal((await gw.mailsTo(emp.email)).at(-1)?.kind, 'duty-executed', 'the old address is told again');
    assert.match((await gw.mailsTo(emp.email)).at(-1)?.text ?? '', /approved by Carla Colleague/);
    assert.equal((await gw.mailsTo('mona.new@demo.example')).at(-1)?.kind, 'duty-executed');
    const setup = (await read(gw.runtime.store, (tx) => tx.setups.lastContactChange(emp.identityId)));
    assert.deepEqual([setup?.setBy, setup?.approvedBy], [gw.seed.admin.id, colleague.identityId]);
  });

  it('NSIS 3.2.2 (High) 3: no enrolment link or code goes to an address its issuer changed without a second person', async () => {
    await touch(gw, admin);
    const emp = await activeEmployee(gw, admin.client, 'legacy@demo.example', 'Lars Legacy');
    // A change the admin made alone, as before approvals existed (the migration records those).
    await dbRun(gw, "UPDATE identities SET email = 'legacy.new@demo.example', email_norm = 'legacy.new@demo.example' WHERE id = ?", [emp.identityId]);
    await gw.runtime.store.write((tx) => tx.setups.record({ identityId: emp.identityId, aspect: 'contact', detail: 'legacy.new@demo.example', setBy: gw.seed.admin.id, approvedBy: null, at: new Date().toISOString() }));
    const link = await admin.client.post(`/api/admin/identities/${emp.identityId}/enrolments`, { delivery: 'handover' });
    assert.equal(link.status, 403);
    assert.equal(link.code, 'SEGREGATION_OF_DUTIES');
    await emp.client.post(`/api/me/credentials/${emp.keyId}/report-lost`, {});
    const code = await admin.client.post(`/api/helpdesk/credentials/${emp.keyId}/reactivate`, { reason: 'found' });
    assert.equal(code.status, 403);
    assert.equal(code.code, 'SEGREGATION_OF_DUTIES');
    const secrets = (await gw.mailsTo('legacy.new@demo.example')).filter((m) => ['enrolment-link', 'activation-code', 'reactivation-code'].includes(m.kind));
    assert.deepEqual(secrets, [], 'no link and no code went there');
    // Another staff member may: the address was not set up by them.
    await touch(gw, second);
    assert.equal((await second.client.post(`/api/admin/identities/${emp.identityId}/enrolments`, {})).status, 201);
  });

  it('NSIS 5.2 (Substantial) 8: staff roles in a CSV import wait for a second org-admin; the people are bound at once', async () => {
    await touch(gw, admin);
    const res = await admin.client.post('/api/admin/identities/import', { csv: 'name,email,ial,proofing_method,roles\nIvan Import,ivan@demo.example,substantial,HR check,helpdesk;org-admin\n' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const roles = field<{ state: string; approvalId: string }[]>(res.body, 'roles');
    assert.equal(roles[0]?.state, 'pending');
    const ivan = (await read(gw.runtime.store, (tx) => tx.identities.findActiveByEmail('ivan@demo.example')));
    assert.deepEqual(ivan?.roles, ['employee']);
    // Nobody the first admin set up can approve that import's roles; a grant the second admin asks
    // for, the first admin may approve (the first admin was not set up by the second).
    await touch(gw, second);
    const twice = await second.client.post(`/api/admin/identities/${ivan?.id ?? ''}/roles`, { role: 'helpdesk', grant: true });
    assert.equal(twice.status, 409, 'one waiting grant per person');
    assert.equal(twice.code, 'CONFLICT');
    assert.equal((await admin.client.post(`/api/approvals/${roles[0]?.approvalId ?? ''}/reject`, {})).status, 200, 'the first admin withdraws the import’s grant');
    const grant = await second.client.post(`/api/admin/identities/${ivan?.id ?? ''}/roles`, { role: 'helpdesk', grant: true });
    assert.equal(grant.status, 202);
    assert.equal((await admin.client.post(`/api/approvals/${field<string>(grant.body, 'approval', 'id')}/approve`, {})).status, 200);
    assert.ok((await read(gw.runtime.store, (tx) => tx.identities.get(ivan?.id ?? '')))?.roles.includes('helpdesk'));
  });

  it('NSIS 6 (Substantial) 11: with one security officer a key request is carried out at once, audited as bootstrap, and the other officers would be told', async () => {
    await touch(gw, admin);
    assert.equal((await control(admin.client, 'hsm-key-rotation'))?.on, false);
    const before = (await read(gw.runtime.store, (tx) => tx.signingKeys.active()))?.kid;
    const res = await admin.client.post('/api/security/key-requests', { kind: 'rotation', reason: 'first rotation, one officer' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(field(res.body, 'request'), null);
    assert.equal(field(res.body, 'bootstrap'), true);
    assert.match(field<string>(res.body, 'result'), /new key .* (active|published)/);
    assert.equal((await read(gw.runtime.store, (tx) => tx.signingKeys.inState('pending'))).length + ((await read(gw.runtime.store, (tx) => tx.signingKeys.active()))?.kid !== before ? 1 : 0), 1, 'a new key exists');
    const bootstrap = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'duty.bootstrap').at(-1);
    assert.equal(bootstrap?.data['action'], 'hsm-key-rotation');
  });

  it('NSIS 3.2.2 (High) 3: the approvals and the duties status are for staff only; an employee is refused with 403 ROLE_REQUIRED', async () => {
    await touch(gw, admin);
    const emp = await activeEmployee(gw, admin.client, 'nosy@demo.example', 'Nosy Employee');
    const asked = await admin.client.patch(`/api/admin/identities/${emp.identityId}`, { email: 'nosy.new@demo.example' });
    assert.equal(asked.status, 202);
    const pending = (await read(gw.runtime.store, (tx) => tx.approvals.get(field<string>(asked.body, 'approval', 'id'))));
    assert.ok(pending);
    for (const res of [
      await emp.client.get('/api/approvals'),
      await emp.client.get('/api/duties'),
      await emp.client.post(`/api/approvals/${pending.id}/approve`, {}),
      await emp.client.post(`/api/approvals/${pending.id}/reject`, {}),
    ]) {
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.code, 'ROLE_REQUIRED');
    }
    assert.equal((await read(gw.runtime.store, (tx) => tx.approvals.get(pending.id)))?.state, 'pending');
  });

  it('NSIS 5.2 (Low) 3: ending a binding withdraws the person’s pending requests and the requests about them', async () => {
    await touch(gw, admin);
    const emp = await activeEmployee(gw, admin.client, 'leaving@demo.example', 'Leo Leaving');
    const about = await admin.client.patch(`/api/admin/identities/${emp.identityId}`, { email: 'leo.private@demo.example' });
    const id = field<string>(about.body, 'approval', 'id');
    assert.equal((await admin.client.post(`/api/admin/identities/${emp.identityId}/end-binding`, { reason: 'employment-ended' })).status, 200);
    assert.equal((await read(gw.runtime.store, (tx) => tx.approvals.get(id)))?.state, 'withdrawn');
    const late = await colleague.client.post(`/api/approvals/${id}/approve`, {});
    assert.equal(late.status, 409);
    assert.equal(late.code, 'APPROVAL_WITHDRAWN');
  });
});
