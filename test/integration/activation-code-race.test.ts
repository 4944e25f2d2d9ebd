/**
 * Issue 13, "Abuse and races" 3: the 5-attempt lock of an activation code cannot be raced. Someone
 * holding the key but not the code (a key intercepted in transport: NSIS 3.2.2 (High) 3) fires 40
 * activations with wrong codes at once, each with its own valid challenge and assertion. Every
 * attempt is counted in the database BEFORE its code is compared, in the transaction that decides
 * it, so at most 5 guesses are ever evaluated, the code locks, and the right code then activates
 * nothing.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_CODE_ATTEMPTS } from '../../server/flows/activation/completeActivation.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activeAdmin, enrol } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries, read } from '../support/storeReads.js';

const PARALLEL = 40;

describe('activation code attempts under a parallel storm (issue 13, 3)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ env: { GATEWAY_STEP_UP_MINUTES: '60' } });
  });
  after(async () => {
    await gw?.close();
  });

  it(`NSIS 3.2.2: ${PARALLEL} parallel wrong codes evaluate at most ${MAX_CODE_ATTEMPTS} guesses and lock the code (403 ACTIVATION_CODE_LOCKED); the right code then does not activate`, async () => {
    const admin = await activeAdmin(gw);
    const email = 'intercepted@demo.example';
    const created = await admin.client.post('/api/admin/identities', { name: 'Intercepted', email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const issued = await admin.client.post(`/api/admin/identities/${field<string>(created.body, 'identity', 'id')}/enrolments`, {});
    const auth = new SoftAuthenticator();
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const keyId = await enrol(gw, new ApiClient(gw.origin), auth, await gw.latestEnrolmentLink(email));
    const code = await gw.latestCode(email);
    const wrong = (n: number): string => String((Number(code) + 1 + n) % 100_000_000).padStart(8, '0');

    // 40 valid possession proofs, each on its own challenge, prepared before the storm.
    const attacker = new ApiClient(gw.origin);
    const prepared = [];
    for (let i = 0; i < PARALLEL + 1; i++) {
      const opt = await attacker.post('/api/activation/options', { email });
      assert.equal(opt.status, 200, JSON.stringify(opt.body));
      prepared.push(await auth.getAssertion(field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options'), gw.origin));
    }
    const last = prepared.pop();
    assert.ok(last);

    const head = (await read(gw.runtime.store, (tx) => tx.audit.head())).seq;
    const answers = await Promise.all(prepared.map((response, i) => attacker.post('/api/activation/verify', { code: wrong(i), response })));
    for (const a of answers) {
      assert.ok(
        (a.status === 400 && a.code === 'ACTIVATION_CODE_INVALID') || (a.status === 403 && a.code === 'ACTIVATION_CODE_LOCKED'),
        `${a.status} ${JSON.stringify(a.body)}`,
      );
    }
    assert.equal(answers.filter((a) => a.status === 400).length, MAX_CODE_ATTEMPTS - 1, 'answers saying "attempt(s) left"');

    const refusals = (await auditEntries(gw.runtime.store, head + 1)).filter((e) => e.type === 'activation.refused');
    const evaluated = refusals.filter((e) => e.data['reason'] === 'wrong-code');
    assert.equal(evaluated.length, MAX_CODE_ATTEMPTS, `guesses evaluated: ${evaluated.length}`);
    assert.deepEqual(evaluated.map((e) => e.data['attempts']).sort(), Array.from({ length: MAX_CODE_ATTEMPTS }, (_, i) => i + 1));
    assert.equal(evaluated.filter((e) => e.data['locked'] === true).length, 1, 'locked exactly once');
    assert.equal(refusals.filter((e) => e.data['reason'] === 'code-locked').length, PARALLEL - MAX_CODE_ATTEMPTS, 'every other attempt refused as locked, audited');
    const row = await read(gw.runtime.store, (tx) => tx.codes.latestOpen(keyId));
    assert.equal(row?.failedAttempts, MAX_CODE_ATTEMPTS);
    assert.notEqual(row?.lockedAt ?? null, null);

    // The right code, with a valid possession proof: still refused, and nothing activated.
    const right = await attacker.post('/api/activation/verify', { code, response: last });
    assert.equal(right.status, 403, JSON.stringify(right.body));
    assert.equal(right.code, 'ACTIVATION_CODE_LOCKED');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)))?.state, 'issued');
    assert.equal(attacker.cookie('gw_session'), undefined, 'a session was started');
  });
});
