/**
 * Two-person control of the SAML signing key (issue 15; NSIS 6 (Substantial) 11, the same as the
 * token keys): a security officer generates the next key in the HSM alone (it only becomes the
 * published next certificate), but the switch to it and the destruction of a retired key wait for
 * a second security officer, through the one approvals mechanism and the duties table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { field } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { bindAndEnrol, touch, type Person } from '../support/staff.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { SAML_ENV, idpCertificates } from './harness.js';

const body = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');

describe('SAML signing key under two-person control (issue 15)', () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let first: Person;
  let second: Person;

  before(async () => {
    gw = await startTestGateway({ env: SAML_ENV });
    admin = await activeAdmin(gw);
    first = await bindAndEnrol(gw, admin.client, { name: 'Sikker Første', email: 'so1@demo.example', roles: ['security-officer'] });
    second = await bindAndEnrol(gw, admin.client, { name: 'Sikker Anden', email: 'so2@demo.example', roles: ['security-officer'] });
  });
  after(async () => {
    await gw?.close();
  });

  it('NSIS 6 (Substantial) 11: the switch to the next SAML key and the destruction of the old one each wait for a second security officer; the requester cannot approve', async () => {
    const plain = await bindAndEnrol(gw, admin.client, { name: 'Almindelig Ansat', email: 'plain@demo.example' });
    const byEmployee = await plain.client.post('/api/security/saml/keys', {});
    assert.deepEqual([byEmployee.status, byEmployee.code], [403, 'ROLE_REQUIRED']);
    await touch(gw, first);
    const generated = await first.client.post('/api/security/saml/keys', {});
    assert.equal(generated.status, 201, JSON.stringify(generated.body));
    const next = field<{ kid: string; certificatePem: string; state: string }>(generated.body, 'key');
    assert.equal(next.state, 'pending');
    const [old] = await gw.runtime.store.read((tx) => tx.saml.keys());
    assert.ok(old && old.state === 'active');

    const asked = await first.client.post(`/api/security/saml/keys/${next.kid}/activate`, {});
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const approvalId = field<string>(asked.body, 'approval', 'id');
    const self = await first.client.post(`/api/approvals/${approvalId}/approve`, {});
    assert.deepEqual([self.status, self.code], [403, 'SEGREGATION_OF_DUTIES']);
    assert.deepEqual((await idpCertificates(gw)).map(body), [body(old.certificatePem), body(next.certificatePem)], 'nothing switched yet');
    await touch(gw, second);
    const approved = await second.client.post(`/api/approvals/${approvalId}/approve`, {});
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.deepEqual((await idpCertificates(gw)).map(body), [body(next.certificatePem), body(old.certificatePem)], 'the new key signs; the old one is the previous');

    const early = await second.client.post(`/api/security/saml/keys/${next.kid}/destroy`, {});
    assert.deepEqual([early.status, early.code], [409, 'SAML_KEY_STATE'], 'the active key is not destroyed');
    const destroy = await second.client.post(`/api/security/saml/keys/${old.kid}/destroy`, {});
    assert.equal(destroy.status, 202, JSON.stringify(destroy.body));
    const done = await first.client.post(`/api/approvals/${field<string>(destroy.body, 'approval', 'id')}/approve`, {});
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual((await idpCertificates(gw)).map(body), [body(next.certificatePem)]);
    const states = await gw.runtime.store.read((tx) => tx.saml.keys());
    assert.deepEqual(states.map((k) => [k.kid, k.state]), [
      [old.kid, 'destroyed'],
      [next.kid, 'active'],
    ]);
    const activated = (await auditEntries(gw.runtime.store)).find((e) => e.type === 'saml.key.activated' && e.subjectId === next.kid);
    assert.equal(activated?.actorId, first.identityId, 'the requester is recorded as the one who asked');
  });
});
