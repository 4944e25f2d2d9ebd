/**
 * Issue 18: the organisation's directory (SCIM) as an actor of its own kind in the lifecycle
 * table (role `provisioning`): what it may do to a person's keys, with which reasons, and the
 * guard that keeps a key it suspended out of use until it resumes the person.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActorRole, CredentialState, ReasonCode } from '../../server/domain/types.js';
import { LifecycleError } from '../../server/errors.js';
import { decideTransition, type LifecycleAction } from '../../server/lifecycle/index.js';

const FULL_EVIDENCE = ['possession', 'second-channel-code'] as const;
const refusedWith = (code: string) => (err: unknown) => err instanceof LifecycleError && err.code === code;

describe('lifecycle table: the directory (provisioning) rows', () => {
  it('NSIS 3.2.3 (Low) 1; 5.2: the directory suspends issued and active keys with reason binding-suspended, and no other reason', () => {
    for (const state of ['issued', 'active'] as const) {
      const row = decideTransition({ state, stateReason: null }, { action: 'suspend', role: 'provisioning', reason: 'binding-suspended' });
      assert.equal(row.to, 'suspended');
      assert.deepEqual([...row.effects].sort(), ['end-sessions', 'notify-holder', 'withdraw-codes']);
    }
    assert.throws(() => decideTransition({ state: 'active', stateReason: null }, { action: 'suspend', role: 'provisioning', reason: 'lost' }), refusedWith('LIFECYCLE_REASON_REFUSED'));
    assert.throws(() => decideTransition({ state: 'active', stateReason: null }, { action: 'suspend', role: 'helpdesk', reason: 'binding-suspended' }), refusedWith('LIFECYCLE_REASON_REFUSED'));
  });

  it('NSIS 3.2.3 (Low) 3: while the directory keeps the person suspended, neither the holder nor staff reactivate the key; once resumed, the holder does with possession and a fresh code', () => {
    const held = { state: 'suspended' as const, stateReason: 'binding-suspended' as const };
    const attempts: [LifecycleAction, ActorRole, ReasonCode][] = [
      ['reactivate', 'holder', 'found'],
      ['request-reactivation', 'holder', 'found'],
      ['request-reactivation', 'helpdesk', 'found'],
      ['request-reactivation', 'org-admin', 'other'],
    ];
    for (const [action, role, reason] of attempts) {
      assert.throws(() => decideTransition(held, { action, role, reason, evidence: FULL_EVIDENCE }), refusedWith('LIFECYCLE_BINDING_SUSPENDED'), `${role} ${action}`);
    }
    const resume = decideTransition(held, { action: 'request-reactivation', role: 'provisioning', reason: 'binding-resumed' });
    assert.deepEqual(resume.effects, ['send-code']);
    const resumed = { state: 'suspended' as const, stateReason: 'binding-resumed' as const };
    assert.equal(decideTransition(resumed, { action: 'reactivate', role: 'holder', reason: 'found', evidence: FULL_EVIDENCE }).to, 'active');
    assert.throws(() => decideTransition(resumed, { action: 'reactivate', role: 'holder', reason: 'found', evidence: ['possession'] }), refusedWith('LIFECYCLE_TRANSITION_REFUSED'));
  });

  it('NSIS 3.2.3 (Low) 4: the directory never reactivates a key itself, nor resumes one suspected compromised', () => {
    assert.throws(() => decideTransition({ state: 'suspended', stateReason: 'binding-suspended' }, { action: 'reactivate', role: 'provisioning', reason: 'found', evidence: FULL_EVIDENCE }), refusedWith('LIFECYCLE_ROLE_REFUSED'));
    assert.throws(
      () => decideTransition({ state: 'suspended', stateReason: 'suspected-compromise' }, { action: 'request-reactivation', role: 'provisioning', reason: 'binding-resumed' }),
      refusedWith('LIFECYCLE_REACTIVATION_FORBIDDEN'),
    );
  });

  it('NSIS 3.2.3 (Low) 4; 5.2 (Low) 3: the directory revokes only for a data error (a name correction) or the end of the binding (deletion)', () => {
    const states: CredentialState[] = ['issued', 'active', 'suspended'];
    for (const state of states) {
      for (const reason of ['data-error', 'employment-ended'] as const) {
        assert.equal(decideTransition({ state, stateReason: null }, { action: 'revoke', role: 'provisioning', reason }).to, 'revoked');
      }
      assert.throws(() => decideTransition({ state, stateReason: null }, { action: 'revoke', role: 'provisioning', reason: 'lost' }), refusedWith('LIFECYCLE_REASON_REFUSED'));
    }
  });
});
