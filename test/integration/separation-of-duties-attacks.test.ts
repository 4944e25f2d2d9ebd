/**
 * Issue 11, items 1-4, as an attacker holding one org-admin account would try them, over the real
 * gateway (HTTP on 127.0.0.1, SQLite, SoftHSM): each is refused, with the HTTP status and the
 * stable code, and nothing changes.
 */
import assert from 'node:assert/strict';
import { auditEntries } from '../support/storeReads.js';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activate, activeAdmin, activeEmployee, enrol } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { bindAndEnrol, touch, type Person } from '../support/staff.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { read } from '../support/storeReads.js';

const ATTACKER = 'mallory@attacker.example';
const PUPPET = 'puppet@attacker.example';

describe('separation of duties: one org-admin alone cannot take over an identity or approve their own request', () => {
  let gw: TestGateway;
  let clock: FixedClock;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let victim: Awaited<ReturnType<typeof activeEmployee>>;
  let puppet: Person;
  let contactChangeId = '';
  const audit = async (type: string) => (await auditEntries(gw.runtime.store)).filter((e) => e.type === type).map((e) => ({ data: JSON.stringify(e.data) }));

  before(async () => {
    clock = new FixedClock(new Date());
    gw = await startTestGateway({ clock, env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000', GATEWAY_BULK_APPROVAL_THRESHOLD: '1' } });
    admin = await activeAdmin(gw);
    victim = await activeEmployee(gw, admin.client, 'victim@demo.example', 'Vera Victim');
  });
  after(async () => {
    await gw.close();
  });

  it('NSIS 3.2.2 (High) 3: one org-admin cannot take over an identity (the contact change waits and the old address is told, the link goes to the person, the code to the bound address)', async () => {
    await touch(gw, admin);
    // 1. Point the victim's second channel at a mailbox the admin reads: it only waits.
    const patch = await admin.client.patch(`/api/admin/identities/${victim.identityId}`, { email: ATTACKER });
    assert.equal(patch.status, 202, JSON.stringify(patch.body));
    contactChangeId = field<string>(patch.body, 'approval', 'id');
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.get(victim.identityId)))?.email, victim.email, 'the address is unchanged');
    const told = (await gw.mailsTo(victim.email)).filter((m) => m.kind === 'duty-requested');
    assert.equal(told.length, 1, 'the old address is told at once');
    assert.match(told[0]?.text ?? '', /First Administrator \(org-admin\) asked/);
    assert.match(told[0]?.text ?? '', new RegExp(`victim@demo\\.example to ${ATTACKER.replace('.', '\\.')}`));
    assert.match(told[0]?.text ?? '', /object at once/);
    assert.match(told[0]?.text ?? '', new RegExp(`Reference: ${contactChangeId}`));
    // ... and the admin cannot approve it.
    const self = await admin.client.post(`/api/approvals/${contactChangeId}/approve`, {});
    assert.equal(self.status, 403);
    assert.equal(self.code, 'SEGREGATION_OF_DUTIES');

    // 2. An enrolment link goes to the person, at the bound address; the API does not return it.
    const issued = await admin.client.post(`/api/admin/identities/${victim.identityId}/enrolments`, {});
    assert.equal(issued.status, 201);
    assert.equal(field(issued.body, 'delivery'), 'mail');
    assert.equal(field(issued.body, 'link'), undefined);
    assert.doesNotMatch(JSON.stringify(issued.body), /token=/);
    assert.equal(field(issued.body, 'sentTo'), 'v***@demo.example');

    // 3. Handing it over in person is an explicit choice, and the bound address is told.
    const handover = await admin.client.post(`/api/admin/identities/${victim.identityId}/enrolments`, { delivery: 'handover' });
    assert.equal(handover.status, 201);
    assert.equal((await gw.mailsTo(victim.email)).at(-1)?.kind, 'enrolment-handover');
    const issuedEvents = (await audit('enrolment.issued')).map((e) => JSON.parse(e.data) as { delivery: string });
    assert.deepEqual(issuedEvents.slice(-2).map((e) => e.delivery), ['mail', 'handover']);

    // 4. The admin registers their own key with it, from a clean browser: the code goes to the victim.
    const mallory = new SoftAuthenticator();
    const clean = new ApiClient(gw.origin);
    const keyId = await enrol(gw, clean, mallory, field<string>(handover.body, 'link'), 'Mallory');
    assert.equal((await gw.mailsTo(victim.email)).at(-1)?.kind, 'activation-code');
    assert.deepEqual(await gw.mailsTo(ATTACKER), [], 'nothing ever reaches the attacker’s mailbox');

    // 5. Without the code the key stays issued; from the admin's own session the cookie check refuses too.
    const guessed = await activate(gw, clean, mallory, victim.email, '12345678');
    assert.equal(guessed.status, 400);
    assert.equal(guessed.code, 'ACTIVATION_CODE_INVALID');
    const fromAdmin = await activate(gw, admin.client, mallory, victim.email, await gw.latestCode(victim.email));
    assert.equal(fromAdmin.status, 403);
    assert.equal(fromAdmin.code, 'SEGREGATION_OF_DUTIES');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)))?.state, 'issued');
    assert.equal((await read(gw.runtime.store, (tx) => tx.sessions.liveOfIdentity(victim.identityId))).filter((s) => s.credentialId === keyId).length, 0);
  });

  it('NSIS 6 (Substantial) 11, 3.2.2 (High) 3: a fake second person the admin set up cannot approve the admin’s key rotation or contact change', async () => {
    await touch(gw, admin);
    // The sole admin (bootstrap: two-person control for roles is off) creates a security officer
    // whose mailbox the admin reads, and takes the account over through that mailbox.
    puppet = await bindAndEnrol(gw, admin.client, { name: 'Sock Puppet', email: PUPPET, roles: ['security-officer', 'helpdesk'] });
    assert.equal(field(puppet.created.body, 'roles', 'state'), 'granted');
    assert.equal(field(puppet.created.body, 'roles', 'bootstrap'), true);
    assert.ok((await audit('duty.bootstrap')).length > 0, 'acting alone in bootstrap is audited');
    const before = (await read(gw.runtime.store, (tx) => tx.signingKeys.list())).map((k) => `${k.kid}:${k.state}`);

    // Two security officers now: the rotation waits for the second one...
    const asked = await admin.client.post('/api/security/key-requests', { kind: 'rotation', reason: 'yearly' });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const requestId = field<string>(asked.body, 'request', 'id');
    // ... who is the admin's own creation.
    const approve = await puppet.client.post(`/api/security/key-requests/${requestId}/approve`, {});
    assert.equal(approve.status, 403, JSON.stringify(approve.body));
    assert.equal(approve.code, 'SEGREGATION_OF_DUTIES');
    assert.deepEqual((await read(gw.runtime.store, (tx) => tx.signingKeys.list())).map((k) => `${k.kid}:${k.state}`), before, 'no key was generated, retired or destroyed');
    const refused = (await audit('approval.refused')).map((e) => JSON.parse(e.data) as { reason: string });
    assert.equal(refused.at(-1)?.reason, 'approver-set-up-by-requester');
    const contact = await puppet.client.post(`/api/approvals/${contactChangeId}/approve`, {});
    assert.equal(contact.status, 403);
    assert.equal(contact.code, 'SEGREGATION_OF_DUTIES');
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.get(victim.identityId)))?.email, victim.email);
    // The admin sees why it waits: nobody can approve it yet.
    const mine = field<{ id: string; eligibleApprovers: number }[]>((await admin.client.get('/api/approvals')).body, 'approvals').find((a) => a.id === requestId);
    assert.equal(mine?.eligibleApprovers, 0);
  });

  it('NSIS 3.2.4: the person a replacement is for cannot approve it', async () => {
    await touch(gw, admin);
    const subject = await bindAndEnrol(gw, admin.client, { name: 'Helga Helpdesk', email: 'helga@demo.example', roles: ['helpdesk'] });
    const asked = await admin.client.post(`/api/helpdesk/identities/${subject.identityId}/replacement`, { basis: 'second-approval', replacesCredentialId: subject.keyId });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const id = field<string>(asked.body, 'approval', 'id');
    const own = await subject.client.post(`/api/helpdesk/approvals/${id}/approve`, {});
    assert.equal(own.status, 403);
    assert.equal(own.code, 'SEGREGATION_OF_DUTIES');
    assert.equal(JSON.parse((await audit('approval.refused')).at(-1)?.data ?? '{}').reason, 'approver-is-subject');
    assert.equal((await read(gw.runtime.store, (tx) => tx.approvals.get(id)))?.state, 'pending');
  });

  it('NSIS 3.2.3 (Low) 2: a request whose requester lost the role is withdrawn and cannot be approved; roles are checked again when it is carried out', async () => {
    await touch(gw, admin);
    const hd = await bindAndEnrol(gw, admin.client, { name: 'Henrik Helpdesk', email: 'henrik@demo.example', roles: ['helpdesk'] });
    const a = await activeEmployee(gw, admin.client, 'bulk.a@demo.example', 'Anna Bulk');
    const b = await activeEmployee(gw, admin.client, 'bulk.b@demo.example', 'Bo Bulk');
    const asked = await hd.client.post('/api/helpdesk/bulk', { action: 'suspend', credentialIds: [a.keyId, b.keyId], reason: 'lost' });
    assert.equal(asked.status, 202);
    const first = field<string>(asked.body, 'approval', 'id');
    // Losing the role withdraws the pending request at once (audited).
    assert.equal((await admin.client.post(`/api/admin/identities/${hd.identityId}/roles`, { role: 'helpdesk', grant: false })).status, 200);
    assert.equal((await read(gw.runtime.store, (tx) => tx.approvals.get(first)))?.state, 'withdrawn');
    assert.equal(JSON.parse((await audit('approval.withdrawn')).at(-1)?.data ?? '{}').reason, 'requester-lost-role');
    const late = await admin.client.post(`/api/helpdesk/approvals/${first}/approve`, {});
    assert.equal(late.status, 409);
    assert.equal(late.code, 'APPROVAL_WITHDRAWN');

    // A role lost by other means (here straight in the database) is caught when it would execute.
    assert.equal((await admin.client.post(`/api/admin/identities/${hd.identityId}/roles`, { role: 'helpdesk', grant: true })).status, 200);
    await touch(gw, hd);
    const again = await hd.client.post('/api/helpdesk/bulk', { action: 'suspend', credentialIds: [a.keyId, b.keyId], reason: 'lost' });
    const second = field<string>(again.body, 'approval', 'id');
    await gw.runtime.store.write((tx) => tx.identities.revokeRole(hd.identityId, 'helpdesk'));
    const stale = await admin.client.post(`/api/helpdesk/approvals/${second}/approve`, {});
    assert.equal(stale.status, 409);
    assert.equal(stale.code, 'APPROVAL_WITHDRAWN');
    assert.deepEqual(await Promise.all([a.keyId, b.keyId].map(async (k) => (await read(gw.runtime.store, (tx) => tx.credentials.get(k)))?.state)), ['active', 'active']);
  });

  it('NSIS 3.2.3 (Low) 2: the approver sees each key and its holder by name, and the audit records the roles both people held', async () => {
    await touch(gw, admin);
    const hd = await bindAndEnrol(gw, admin.client, { name: 'Hanne Helpdesk', email: 'hanne@demo.example', roles: ['helpdesk'] });
    const a = await activeEmployee(gw, admin.client, 'named.a@demo.example', 'Ida Named');
    const b = await activeEmployee(gw, admin.client, 'named.b@demo.example', 'Ole Named');
    const asked = await hd.client.post('/api/helpdesk/bulk', { action: 'revoke', credentialIds: [a.keyId, b.keyId], reason: 'suspected-compromise' });
    const id = field<string>(asked.body, 'approval', 'id');
    const shown = field<{ id: string; summary: string; items: string[]; canApprove: boolean }[]>((await admin.client.get('/api/helpdesk/approvals')).body, 'approvals').find((x) => x.id === id);
    assert.match(shown?.summary ?? '', /^Revoke keys \(2\) of Ida Named, Ole Named \(reason: /);
    assert.deepEqual(shown?.items, ['Revoke “Test key”, active of Ida Named <named.a@demo.example>', 'Revoke “Test key”, active of Ole Named <named.b@demo.example>']);
    assert.equal(shown?.canApprove, true);
    const ok = await admin.client.post(`/api/helpdesk/approvals/${id}/approve`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const approved = JSON.parse((await audit('approval.approved')).at(-1)?.data ?? '{}') as { requesterRole: string; approverRole: string };
    assert.deepEqual([approved.requesterRole, approved.approverRole], ['helpdesk', 'helpdesk']);
    const event = (await read(gw.runtime.store, (tx) => tx.credentials.events(a.keyId))).at(-1);
    assert.deepEqual([event?.action, event?.actorId, event?.actorRole], ['revoke', hd.identityId, 'helpdesk']);
  });

  it('NSIS 6 (Substantial) 11: every HSM key request and approval, and every OIDC client change, needs a recent security-key sign-in (step-up)', async () => {
    await touch(gw, admin);
    const asked = await admin.client.post('/api/security/key-requests', { kind: 'rotation', reason: 'step-up probe' });
    assert.equal(asked.status, 409, 'the rotation of the earlier test is still waiting');
    const pending = (await read(gw.runtime.store, (tx) => tx.approvals.pending())).find((x) => x.kind === 'hsm-key-rotation');
    assert.ok(pending);
    clock.advance(2 * 60 * 60_000);
    const stale = [
      await admin.client.post('/api/security/key-requests', { kind: 'emergency-rotation', targetKid: (await read(gw.runtime.store, (tx) => tx.signingKeys.active()))?.kid ?? '', reason: 'compromise' }),
      await puppet.client.post(`/api/security/key-requests/${pending.id}/approve`, {}),
      await puppet.client.post(`/api/security/key-requests/${pending.id}/reject`, {}),
      await admin.client.post('/api/admin/oidc-clients', { clientId: 'evil-rp', name: 'Evil', redirectUris: ['https://evil.example/cb'], authMethod: 'client_secret_basic' }),
    ];
    for (const res of stale) {
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.code, 'STEP_UP_REQUIRED');
    }
    assert.equal((await read(gw.runtime.store, (tx) => tx.approvals.pending())).filter((x) => x.kind === 'hsm-key-emergency-rotation').length, 0);
    assert.equal((await read(gw.runtime.store, (tx) => tx.oidc.client('evil-rp'))), undefined);
    assert.equal((await read(gw.runtime.store, (tx) => tx.approvals.get(pending.id)))?.state, 'pending');
  });
});
