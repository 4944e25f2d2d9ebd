/**
 * The lifecycle table against the compliance matrix below, written out independently of the
 * table: every (state, action, role) triple is tried; the allowed ones succeed with their target
 * state, every other one fails with its stable code.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CREDENTIAL_STATES, type ActorRole, type CredentialState, type ReasonCode } from '../../server/domain/types.js';
import { LifecycleError } from '../../server/errors.js';
import { LIFECYCLE_ACTIONS, LIFECYCLE_TABLE, decideTransition, type LifecycleAction } from '../../server/lifecycle/index.js';

const ROLES: ActorRole[] = ['holder', 'helpdesk', 'security-officer', 'org-admin', 'system'];
const STAFF: ActorRole[] = ['helpdesk', 'org-admin', 'security-officer'];

/** [from, action, roles allowed, to, a reason that role may give] */
const MATRIX: [CredentialState, LifecycleAction, ActorRole[], CredentialState, ReasonCode][] = [
  ['issued', 'activate', ['holder'], 'active', 'activated'],
  ['issued', 'request-reactivation', ['helpdesk', 'org-admin'], 'issued', 'other'],
  ['issued', 'revoke', ['holder', ...STAFF, 'system'], 'revoked', 'suspected-compromise'],
  ['issued', 'expire', ['system'], 'expired', 'expired'],
  // Issue 18: only the organisation's directory suspends a key not yet activated (with its person).
  ['issued', 'suspend', ['provisioning'], 'suspended', 'binding-suspended'],
  ['active', 'suspend', ['holder', ...STAFF, 'system'], 'suspended', 'suspected-compromise'],
  ['active', 'revoke', ['holder', ...STAFF, 'system'], 'revoked', 'suspected-compromise'],
  ['active', 'expire', ['system'], 'expired', 'expired'],
  ['suspended', 'request-reactivation', ['holder', 'helpdesk', 'org-admin'], 'suspended', 'found'],
  ['suspended', 'reactivate', ['holder'], 'active', 'found'],
  ['suspended', 'revoke', ['holder', ...STAFF, 'system'], 'revoked', 'suspected-compromise'],
  ['suspended', 'expire', ['system'], 'expired', 'expired'],
];

const FULL_EVIDENCE = ['possession', 'second-channel-code'] as const;

describe('lifecycle table (NSIS 2, 3.2.2, 3.2.3)', () => {
  for (const state of CREDENTIAL_STATES) {
    for (const action of LIFECYCLE_ACTIONS) {
      for (const role of ROLES) {
        const row = MATRIX.find(([f, a]) => f === state && a === action);
        const allowed = row !== undefined && row[2].includes(role);
        it(`${state} --${action}--> by ${role}: ${allowed ? `allowed, to ${row?.[3]}` : 'refused'}`, () => {
          const reason: ReasonCode = row?.[4] ?? 'other';
          const attempt = () => decideTransition({ state, stateReason: null }, { action, role, reason, evidence: FULL_EVIDENCE });
          if (allowed) {
            assert.equal(attempt().to, row?.[3]);
          } else {
            const expected = row === undefined ? 'LIFECYCLE_TRANSITION_REFUSED' : 'LIFECYCLE_ROLE_REFUSED';
            assert.throws(attempt, (err: unknown) => err instanceof LifecycleError && err.code === expected);
          }
        });
      }
    }
  }

  it('NSIS 2: revoked and expired are terminal: no action leads out of them', () => {
    for (const row of LIFECYCLE_TABLE) {
      assert.ok(!row.from.includes('revoked') && !row.from.includes('expired'), `${row.action} leaves a terminal state`);
    }
  });

  it('NSIS 3.2.2: activation without the second-channel code or without possession is refused', () => {
    for (const evidence of [[], ['possession'], ['second-channel-code']] as const) {
      assert.throws(
        () => decideTransition({ state: 'issued', stateReason: null }, { action: 'activate', role: 'holder', reason: 'activated', evidence }),
        (err: unknown) => err instanceof LifecycleError && err.code === 'LIFECYCLE_TRANSITION_REFUSED',
      );
    }
  });

  it('NSIS 3.2.3 (Low) 3: reactivation needs the same evidence as the first activation', () => {
    const reactivate = LIFECYCLE_TABLE.find((r) => r.action === 'reactivate');
    const activate = LIFECYCLE_TABLE.find((r) => r.action === 'activate');
    assert.deepEqual([...(reactivate?.evidence ?? [])].sort(), [...(activate?.evidence ?? [])].sort());
  });

  it('NSIS 3.2.3 (Low) 4: a key suspended for suspected compromise or clone can only be revoked', () => {
    for (const stateReason of ['suspected-compromise', 'suspected-clone'] as const) {
      const current = { state: 'suspended' as const, stateReason };
      assert.throws(
        () => decideTransition(current, { action: 'reactivate', role: 'holder', reason: 'found', evidence: FULL_EVIDENCE }),
        (err: unknown) => err instanceof LifecycleError && err.code === 'LIFECYCLE_REACTIVATION_FORBIDDEN',
      );
      assert.throws(
        () => decideTransition(current, { action: 'request-reactivation', role: 'helpdesk', reason: 'found' }),
        (err: unknown) => err instanceof LifecycleError && err.code === 'LIFECYCLE_REACTIVATION_FORBIDDEN',
      );
      assert.equal(decideTransition(current, { action: 'revoke', role: 'helpdesk', reason: 'suspected-compromise' }).to, 'revoked');
    }
  });

  it('a reason the row does not accept is refused with LIFECYCLE_REASON_REFUSED', () => {
    assert.throws(
      () => decideTransition({ state: 'active', stateReason: null }, { action: 'suspend', role: 'holder', reason: 'employment-ended' }),
      (err: unknown) => err instanceof LifecycleError && err.code === 'LIFECYCLE_REASON_REFUSED',
    );
    assert.throws(
      () => decideTransition({ state: 'active', stateReason: null }, { action: 'suspend', role: 'system', reason: 'lost' }),
      (err: unknown) => err instanceof LifecycleError && err.code === 'LIFECYCLE_REASON_REFUSED',
    );
  });

  it('every row cites an NSIS clause', () => {
    for (const row of LIFECYCLE_TABLE) assert.match(row.clause, /^NSIS \d/);
  });
});

describe('docs/lifecycle.md', () => {
  it('is the rendering of the table (run `npm run docs:lifecycle` after changing the table)', async () => {
    const { readFileSync } = await import('node:fs');
    const { renderLifecycleMarkdown } = await import('../../server/lifecycle/renderTable.js');
    const { repoRoot } = await import('../support/testGateway.js');
    assert.equal(readFileSync(`${repoRoot}/docs/lifecycle.md`, 'utf8'), renderLifecycleMarkdown());
  });
});

describe('docs/nsis-traceability.md', () => {
  it('lists every test that cites an NSIS clause (run `npm run docs:traceability` after changing tests)', async () => {
    const { readFileSync } = await import('node:fs');
    const { renderTraceability } = await import('../../scripts/render-traceability.js');
    const { repoRoot } = await import('../support/testGateway.js');
    assert.equal(readFileSync(`${repoRoot}/docs/nsis-traceability.md`, 'utf8'), renderTraceability());
  });
});
