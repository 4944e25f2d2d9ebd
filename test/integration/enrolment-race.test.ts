/**
 * Single use under a race (CONVENTIONS 4, NSIS 3.2.2): two browsers register a key through the
 * same one-time link at the same moment. Exactly one key is issued; the other registration is
 * refused, and that refusal is in the audit trail (it is recorded outside the transaction that
 * lost the race, so the rollback cannot take it away).
 */
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, field } from '../support/apiClient.js';
import { activeAdmin, tokenOf } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries, read } from '../support/storeReads.js';

describe('enrolment link used twice at once', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.close();
  });

  it('NSIS 3.2.2 / CONVENTIONS 4: one of two concurrent registrations on one link wins; the loser is refused and audited', async () => {
    const admin = await activeAdmin(gw);
    const created = await admin.client.post('/api/admin/identities', { name: 'Racer', email: 'racer@demo.example', ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const identityId = field<string>(created.body, 'identity', 'id');
    const issued = await admin.client.post(`/api/admin/identities/${identityId}/enrolments`, {});
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const token = tokenOf(await gw.latestEnrolmentLink('racer@demo.example'));

    // Two browsers, each with its own flow and challenge, each with a different key.
    const browsers = await Promise.all(
      [0, 1].map(async () => {
        const client = new ApiClient(gw.origin);
        const opt = await client.post('/api/enrolment/options', { token });
        assert.equal(opt.status, 200, JSON.stringify(opt.body));
        const options = field<PublicKeyCredentialCreationOptionsJSON>(opt.body, 'options');
        return { client, response: await new SoftAuthenticator().createCredential({ ...options, origin: gw.origin }) };
      }),
    );
    const head = (await read(gw.runtime.store, (tx) => tx.audit.head())).seq;
    const results = await Promise.all(browsers.map((b) => b.client.post('/api/enrolment/verify', { token, label: 'Race', response: b.response })));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 400], JSON.stringify(results.map((r) => r.body)));
    const loser = results.find((r) => r.status === 400);
    assert.equal(loser?.code, 'ENROLMENT_INVALID');

    const keys = (await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(identityId)));
    assert.equal(keys.length, 1);
    const events = (await auditEntries(gw.runtime.store, head + 1));
    assert.equal(events.filter((e) => e.type === 'credential.issued').length, 1);
    const refused = events.filter((e) => e.type === 'enrolment.refused');
    assert.equal(refused.length, 1, JSON.stringify(events.map((e) => [e.type, e.data])));
    assert.equal(refused[0]?.data['reason'], 'already-used');
  });
});
