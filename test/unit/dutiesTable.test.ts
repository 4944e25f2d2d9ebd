/**
 * The separation-of-duties table and its pure decisions (server/duties), and docs/duties.md as
 * its rendering.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  APPROVAL_KINDS,
  DUTY_ACTIONS,
  DUTY_TABLE,
  decideApproval,
  decideRequest,
  renderDutiesMarkdown,
  twoPersonControls,
  type ApprovalFacts,
} from '../../server/duties/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const approvalFacts = (over: Partial<ApprovalFacts> = {}): ApprovalFacts => ({
  requesterId: 'r',
  requesterBound: true,
  requesterHoldsRole: true,
  approverId: 'a',
  approverBound: true,
  approverRoles: ['employee', 'org-admin', 'helpdesk'],
  subjectIds: ['s'],
  approverSetUpByRequester: false,
  ...over,
});

describe('the separation-of-duties table', () => {
  it('has exactly one row per sensitive action; every row that can wait names who approves, and only those rows are approval kinds', () => {
    assert.deepEqual(DUTY_TABLE.map((r) => r.action).sort(), [...DUTY_ACTIONS].sort());
    for (const r of DUTY_TABLE) {
      assert.ok(r.requesters.length > 0, r.action);
      assert.ok(r.checks.includes('step-up'), `${r.action} needs step-up`);
      assert.match(r.clause, /^NSIS /, r.action);
      assert.equal(r.approval === 'never', r.approvers.length === 0, r.action);
      assert.equal(APPROVAL_KINDS.some((k) => k === r.action), r.approval !== 'never', r.action);
      if (r.approval !== 'never') assert.ok(r.checks.includes('approver-not-set-up-by-requester'), r.action);
    }
  });

  it('NSIS 3.2.2 (High) 3: a contact change always waits for a second staff member, even in a one-person organisation', () => {
    assert.deepEqual(decideRequest('contact-change', { role: 'org-admin', approverPool: 1 }), { kind: 'needs-approval' });
    assert.deepEqual(decideRequest('contact-change', { role: 'helpdesk', approverPool: 5 }), { kind: 'refused', reason: 'role-not-allowed' });
  });

  it('NSIS 5.2 (Substantial) 8: a staff-role grant is carried out alone only while fewer than two org-admins exist (bootstrap)', () => {
    assert.deepEqual(decideRequest('role-grant', { role: 'org-admin', approverPool: 1 }), { kind: 'alone', bootstrap: true });
    assert.deepEqual(decideRequest('role-grant', { role: 'org-admin', approverPool: 2 }), { kind: 'needs-approval' });
    const controls = twoPersonControls((roles) => (roles.includes('org-admin') && !roles.includes('helpdesk') ? 1 : 2));
    assert.equal(controls.find((c) => c.action === 'role-grant')?.on, false);
    assert.equal(controls.find((c) => c.action === 'contact-change')?.on, true);
  });

  it('NSIS 6 (Substantial) 11: key management waits for a second security officer once there are two', () => {
    for (const action of ['hsm-key-rotation', 'hsm-key-emergency-rotation', 'hsm-key-destroy'] as const) {
      assert.deepEqual(decideRequest(action, { role: 'security-officer', approverPool: 1 }), { kind: 'alone', bootstrap: true });
      assert.deepEqual(decideRequest(action, { role: 'security-officer', approverPool: 2 }), { kind: 'needs-approval' });
      assert.deepEqual(decideRequest(action, { role: 'org-admin', approverPool: 2 }), { kind: 'refused', reason: 'role-not-allowed' });
    }
  });

  it('NSIS 3.2.3 (Low) 2, 3.2.4: a bulk action waits only above the threshold, a replacement only without another active key, and neither has a bootstrap exception', () => {
    assert.deepEqual(decideRequest('bulk', { role: 'helpdesk', approverPool: 1, bulkSize: 2, bulkThreshold: 2 }), { kind: 'alone', bootstrap: false });
    assert.deepEqual(decideRequest('bulk', { role: 'helpdesk', approverPool: 1, bulkSize: 3, bulkThreshold: 2 }), { kind: 'needs-approval' });
    assert.deepEqual(decideRequest('replacement', { role: 'helpdesk', approverPool: 1, hasOtherActiveKey: true }), { kind: 'alone', bootstrap: false });
    assert.deepEqual(decideRequest('replacement', { role: 'helpdesk', approverPool: 1, hasOtherActiveKey: false }), { kind: 'needs-approval' });
    assert.throws(() => decideRequest('bulk', { role: 'helpdesk', approverPool: 2 }), TypeError);
  });

  it('NSIS 3.2.2 (High) 3: an approver is not the requester, not a subject, not set up by the requester, and holds an approver role; a requester who lost the role withdraws the request first', () => {
    assert.deepEqual(decideApproval('contact-change', approvalFacts()), { ok: true, approverRole: 'org-admin' });
    assert.deepEqual(decideApproval('contact-change', approvalFacts({ approverRoles: ['helpdesk'] })), { ok: true, approverRole: 'helpdesk' });
    assert.deepEqual(decideApproval('contact-change', approvalFacts({ approverId: 'r' })), { ok: false, refusal: 'same-person' });
    assert.deepEqual(decideApproval('contact-change', approvalFacts({ approverId: 's' })), { ok: false, refusal: 'approver-is-subject' });
    assert.deepEqual(decideApproval('contact-change', approvalFacts({ approverSetUpByRequester: true })), { ok: false, refusal: 'approver-set-up-by-requester' });
    assert.deepEqual(decideApproval('role-grant', approvalFacts({ approverRoles: ['helpdesk'] })), { ok: false, refusal: 'approver-lacks-role' });
    assert.deepEqual(decideApproval('contact-change', approvalFacts({ approverBound: false })), { ok: false, refusal: 'approver-lacks-role' });
    assert.deepEqual(decideApproval('contact-change', approvalFacts({ requesterHoldsRole: false, approverId: 'r' })), { ok: false, refusal: 'requester-lost-role' });
    assert.deepEqual(decideApproval('contact-change', approvalFacts({ requesterBound: false })), { ok: false, refusal: 'requester-lost-role' });
    assert.throws(() => decideApproval('enrolment-issue', approvalFacts()), TypeError);
  });
});

describe('docs/duties.md', () => {
  it('is the rendering of the table (run `npm run docs:duties` after changing the table)', () => {
    assert.equal(readFileSync(`${repoRoot}/docs/duties.md`, 'utf8'), renderDutiesMarkdown());
  });
});
