/**
 * Issue 13, "Abuse and races" 6: a key's backup eligibility (the BE flag) is fixed when the
 * credential is created (WebAuthn L3 §6.1.3); §7.2 has the relying party compare the BE flag of
 * every assertion with the registered value and refuse a change. A key registered device-bound
 * (and rated Substantial for it) that later claims BE|BS is not the key registered, or is now
 * synced: refused at sign-in and at activation, audited with the reason; the backup state (BS) of
 * every accepted assertion is recorded.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, field } from '../support/apiClient.js';
import { activate, activeAdmin, activeEmployee, enrol, signIn } from '../support/journeys.js';
import { SoftAuthenticator, type AssertionOverrides } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries, read } from '../support/storeReads.js';

async function refusalsSince(gw: TestGateway, seq: number, type: string) {
  return (await auditEntries(gw.runtime.store, seq + 1)).filter((e) => e.type === type);
}

async function signInWith(gw: TestGateway, auth: SoftAuthenticator, email: string, overrides: AssertionOverrides) {
  const c = new ApiClient(gw.origin);
  const opt = await c.post('/api/signin/options', { email });
  const response = await auth.getAssertion(field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options'), gw.origin, overrides);
  return { c, res: await c.post('/api/signin/verify', { response }) };
}

describe('backup eligibility is checked against the registration (issue 13, 6)', () => {
  let gw: TestGateway;
  let admin: ApiClient;
  before(async () => {
    // Synced keys allowed here, so that a backup-eligible registration exists to compare with.
    gw = await startTestGateway({ env: { GATEWAY_REQUIRE_DEVICE_BOUND: 'false', GATEWAY_STEP_UP_MINUTES: '60' } });
    admin = (await activeAdmin(gw)).client;
  });
  after(async () => {
    await gw?.close();
  });

  it('NSIS 3.3.1 (Low) 1, WebAuthn L3 §7.2: a key registered device-bound that signs in with BE|BS set is refused (401 SIGNIN_FAILED), audited as backup-eligibility-changed; the device-bound key itself still signs in', async () => {
    const emp = await activeEmployee(gw, admin, 'bound@demo.example', 'Bound');
    const key = (await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)));
    assert.equal(key?.backupEligible, false);
    assert.equal(key?.aal, 'substantial');
    const head = (await read(gw.runtime.store, (tx) => tx.audit.head())).seq;
    for (const flags of [{ backupEligible: true, backupState: true }, { backupEligible: true, backupState: false }]) {
      const { c, res } = await signInWith(gw, emp.auth, emp.email, flags);
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.code, 'SIGNIN_FAILED');
      assert.equal(c.cookie('gw_session'), undefined);
    }
    const refused = (await refusalsSince(gw, head, 'signin.refused'));
    assert.deepEqual(
      refused.map((e) => [e.data['reason'], e.data['registered'], e.data['presented']]),
      [
        ['backup-eligibility-changed', false, true],
        ['backup-eligibility-changed', false, true],
      ],
    );
    assert.equal((await refusalsSince(gw, head, 'signin.succeeded')).length, 0);
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.backupState, false);
    const ok = await signIn(gw, new ApiClient(gw.origin), emp.auth, emp.email);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('NSIS 3.3.1 (Low) 1, WebAuthn L3 §7.2: a key registered backup-eligible that presents BE unset is refused too; its backup state (BS) is recorded at each sign-in', async () => {
    const synced = new SoftAuthenticator({ backupEligible: true, backupState: false });
    const emp = await activeEmployee(gw, admin, 'synced@demo.example', 'Synced', 'substantial', synced);
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.backupEligible, true);
    const head = (await read(gw.runtime.store, (tx) => tx.audit.head())).seq;
    const { res } = await signInWith(gw, synced, emp.email, { backupEligible: false, backupState: false });
    assert.equal(res.status, 401);
    assert.equal(res.code, 'SIGNIN_FAILED');
    assert.deepEqual(
      (await refusalsSince(gw, head, 'signin.refused')).map((e) => [e.data['reason'], e.data['registered'], e.data['presented']]),
      [['backup-eligibility-changed', true, false]],
    );
    const backedUp = await signInWith(gw, synced, emp.email, { backupState: true });
    assert.equal(backedUp.res.status, 200, JSON.stringify(backedUp.res.body));
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.backupState, true);
    const notYet = await signInWith(gw, synced, emp.email, { backupState: false });
    assert.equal(notYet.res.status, 200);
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.backupState, false);
  });

  it('NSIS 3.2.2, WebAuthn L3 §7.2: an activation whose assertion changes backup eligibility is refused (400 CEREMONY_FAILED) without spending a code attempt, audited; the registered key then activates and its backup state is recorded', async () => {
    const email = 'activating@demo.example';
    const created = await admin.post('/api/admin/identities', { name: 'Activating', email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
    const issued = await admin.post(`/api/admin/identities/${field<string>(created.body, 'identity', 'id')}/enrolments`, {});
    const auth = new SoftAuthenticator();
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const keyId = await enrol(gw, new ApiClient(gw.origin), auth, await gw.latestEnrolmentLink(email));
    const code = await gw.latestCode(email);
    const head = (await read(gw.runtime.store, (tx) => tx.audit.head())).seq;
    const c = new ApiClient(gw.origin);
    const opt = await c.post('/api/activation/options', { email });
    const response = await auth.getAssertion(field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options'), gw.origin, { backupEligible: true, backupState: true });
    const res = await c.post('/api/activation/verify', { code, response });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.code, 'CEREMONY_FAILED');
    assert.deepEqual(
      (await refusalsSince(gw, head, 'activation.refused')).map((e) => [e.data['reason'], e.data['registered'], e.data['presented']]),
      [['backup-eligibility-changed', false, true]],
    );
    const row = await read(gw.runtime.store, (tx) => tx.codes.latestOpen(keyId));
    assert.equal(row?.failedAttempts, 0, 'a code attempt was spent');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)))?.state, 'issued');
    const ok = await activate(gw, new ApiClient(gw.origin), auth, email, code);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)))?.backupState, false);
  });
});
