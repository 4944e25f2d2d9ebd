/**
 * A holder adds another key themselves (issue 16), over the real API with the software
 * authenticator: NSIS 3.2.4 (Low) 1 (a new means bound through a valid one of the same or higher
 * level), NSIS 3.2.2 (it starts issued and activates with the second-channel code), the fresh
 * touch (step-up) and the cap of usable keys, each refusal audited with a stable code.
 */
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { MAX_USABLE_KEYS } from '../../server/flows/keys/addOwnKey.js';
import { ApiClient, field, type ApiResponse } from '../support/apiClient.js';
import { activate, activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { auditEntries, read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

function assertProblem(res: ApiResponse, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.code, code, JSON.stringify(res.body));
}

describe('issue 16: a holder adds a second key themselves', () => {
  let gw: TestGateway;
  let clock: FixedClock;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let n = 0;
  const email = () => `self${++n}@demo.example`;
  /** An employee with one active key, created by an administrator who has just touched their key. */
  const employee = async (name = 'Employee') => {
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    return activeEmployee(gw, admin.client, email(), name);
  };

  /** Registers a new key of `auth` through the self-service endpoints; returns the verify answer. */
  async function addKey(client: ApiClient, auth: SoftAuthenticator, origin: string, label = 'Spare key'): Promise<ApiResponse> {
    const opt = await client.post('/api/me/credentials/new/options', {});
    if (opt.status !== 200) return opt;
    const options = field<PublicKeyCredentialCreationOptionsJSON>(opt.body, 'options');
    const response = await auth.createCredential({ ...options, origin });
    return client.post('/api/me/credentials/new/verify', { label, response });
  }

  before(async () => {
    clock = new FixedClock(new Date());
    gw = await startTestGateway({ clock, env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000' } });
    admin = await activeAdmin(gw);
  });

  after(async () => {
    await gw?.close();
  });

  it('NSIS 3.2.4 (Low) 1, 3.2.2: a key added from a session on an active key starts issued, its code goes by mail, and possession plus the code activate it', async () => {
    const emp = await employee('Self Service');
    const spare = new SoftAuthenticator();
    const mailsBefore = (await gw.mailsTo(emp.email)).length;
    const res = await addKey(emp.client, spare, gw.origin);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(field(res.body, 'credential', 'state'), 'issued');
    // The address is shown masked (it is the bound one; the code itself never is in the answer).
    assert.match(field<string>(res.body, 'activation', 'sentTo'), /^s.*\*.*@demo\.example$/);
    assert.doesNotMatch(JSON.stringify(res.body), /code/i);
    const newId = field<string>(res.body, 'credential', 'id');
    const stored = await read(gw.runtime.store, (tx) => tx.credentials.get(newId));
    assert.equal(stored?.state, 'issued');
    assert.equal(stored?.enrolmentId, null, 'no enrolment link: the basis is the session’s key');
    const history = await read(gw.runtime.store, (tx) => tx.credentials.events(newId));
    assert.deepEqual(history.map((e) => [e.action, e.toState, e.clause]), [['issue', 'issued', 'NSIS 3.2.4']]);
    const issued = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'credential.issued' && e.subjectId === newId);
    assert.equal(issued.length, 1);
    assert.equal(issued[0]?.data['selfService'], true);
    assert.equal(issued[0]?.data['boundWith'], emp.keyId);
    // The activation code goes through the second channel, as for any key.
    const mails = (await gw.mailsTo(emp.email)).slice(mailsBefore);
    assert.deepEqual(mails.map((m) => m.kind), ['activation-code']);

    // Possession of the new key plus the code activate it.
    const act = await activate(gw, new ApiClient(gw.origin), spare, emp.email);
    assert.equal(act.status, 200, JSON.stringify(act.body));
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(newId)))?.state, 'active');
    // The first key is untouched: the new one is a second key, not a replacement.
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.state, 'active');
  });

  it('NSIS 3.2.4 (Low) 1: a key cannot be added without a fresh touch of the session’s key (401 STEP_UP_REQUIRED)', async () => {
    const emp = await employee();
    clock.advance(6 * 60_000);
    const res = await emp.client.post('/api/me/credentials/new/options', {});
    assertProblem(res, 401, 'STEP_UP_REQUIRED');
    // After a fresh sign-in with the key it works.
    assert.equal((await signIn(gw, emp.client, emp.auth, emp.email)).status, 200);
    const added = await addKey(emp.client, new SoftAuthenticator(), gw.origin);
    assert.equal(added.status, 201, JSON.stringify(added.body));
  });

  it('NSIS 3.2.4 (Low) 1: a challenge of an enrolment link or of another person cannot finish a self-service registration (400 CHALLENGE_INVALID)', async () => {
    const a = await employee();
    const b = await employee();
    const opt = await a.client.post('/api/me/credentials/new/options', {});
    assert.equal(opt.status, 200);
    const response = await new SoftAuthenticator().createCredential({ ...field<PublicKeyCredentialCreationOptionsJSON>(opt.body, 'options'), origin: gw.origin });
    // B's session in B's browser with A's challenge: the challenge is bound to A's browser flow and A.
    const res = await b.client.post('/api/me/credentials/new/verify', { label: 'x', response });
    assertProblem(res, 400, 'CHALLENGE_INVALID');
    const refusals = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'enrolment.refused' && e.subjectId === b.identityId);
    assert.ok(refusals.length >= 1, 'the refusal is audited');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(b.identityId))).length, 1);
  });

  it(`NSIS 3.2.4: at most ${MAX_USABLE_KEYS} usable keys per person; the next self-service key is refused (409 KEY_LIMIT_REACHED) and audited`, async () => {
    const emp = await employee();
    for (let i = 1; i < MAX_USABLE_KEYS; i++) {
      const res = await addKey(emp.client, new SoftAuthenticator(), gw.origin, `Key ${i}`);
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const refused = await emp.client.post('/api/me/credentials/new/options', {});
    assertProblem(refused, 409, 'KEY_LIMIT_REACHED');
    const audited = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'self-enrolment.refused' && e.subjectId === emp.identityId);
    assert.equal(audited.at(-1)?.data['reason'], 'key-limit-reached');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(emp.identityId))).length, MAX_USABLE_KEYS);
  });

  it('NSIS 3.2.4 (Low) 1: a session whose key was suspended meanwhile cannot add a key (no session survives, 401)', async () => {
    const emp = await employee();
    const lost = await emp.client.post(`/api/me/credentials/${emp.keyId}/report-lost`, {});
    assert.equal(lost.status, 200, JSON.stringify(lost.body));
    const res = await emp.client.post('/api/me/credentials/new/options', {});
    assertProblem(res, 401, 'UNAUTHENTICATED');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(emp.identityId))).length, 1);
  });
});
