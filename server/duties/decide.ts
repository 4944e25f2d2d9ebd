/**
 * Pure decisions over the duties table: may this person ask for this action, must a second person
 * approve it, and may this second person approve this request. No I/O: the approvals flow gathers
 * the facts, asks, and records.
 */
import type { AssignedRole } from '../domain/types.js';
import { APPROVAL_KINDS, DUTY_TABLE, STAFF_ROLES, dutyRow, type ApprovalKind, type DutyAction, type DutyRow, type StaffRole } from './table.js';

export interface RequestFacts {
  /** The role the requester acts in. */
  role: AssignedRole;
  /** Bound people holding an approver role of the row, the requester included. */
  approverPool: number;
  /** A bulk action: how many keys, and the configured threshold. */
  bulkSize?: number;
  bulkThreshold?: number;
  /** A replacement: the person still holds another active key (a valid means, NSIS 3.2.4). */
  hasOtherActiveKey?: boolean;
}

export type RequestDecision =
  | { kind: 'refused'; reason: 'role-not-allowed' }
  /** Carried out at once; `bootstrap` when only because too few people exist for two-person control. */
  | { kind: 'alone'; bootstrap: boolean }
  | { kind: 'needs-approval' };

function approvalApplies(row: DutyRow, facts: RequestFacts): boolean {
  switch (row.approval) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'above-bulk-threshold':
      if (facts.bulkSize === undefined || facts.bulkThreshold === undefined) throw new TypeError('a bulk decision needs its size and threshold');
      return facts.bulkSize > facts.bulkThreshold;
    case 'without-active-key':
      if (facts.hasOtherActiveKey === undefined) throw new TypeError('a replacement decision needs to know about other active keys');
      return !facts.hasOtherActiveKey;
  }
}

export function decideRequest(action: DutyAction, facts: RequestFacts): RequestDecision {
  const row = dutyRow(action);
  if (!row.requesters.some((r) => r === facts.role)) return { kind: 'refused', reason: 'role-not-allowed' };
  if (!approvalApplies(row, facts)) return { kind: 'alone', bootstrap: false };
  if (row.bootstrap === 'alone' && facts.approverPool < 2) return { kind: 'alone', bootstrap: true };
  return { kind: 'needs-approval' };
}

export interface ApprovalFacts {
  requesterId: string;
  /** Still bound, and still holding the role the request was made in. */
  requesterBound: boolean;
  requesterHoldsRole: boolean;
  approverId: string;
  approverBound: boolean;
  approverRoles: readonly AssignedRole[];
  /** The people the request is about (the holders of the keys, the person whose data changes). */
  subjectIds: readonly string[];
  /** The requester created or changed the approver's identity, a role of theirs, or their contact data. */
  approverSetUpByRequester: boolean;
}

export type ApprovalRefusal =
  | 'requester-lost-role'
  | 'same-person'
  | 'approver-lacks-role'
  | 'approver-is-subject'
  | 'approver-set-up-by-requester';

export type ApprovalDecision = { ok: true; approverRole: StaffRole } | { ok: false; refusal: ApprovalRefusal };

/**
 * Approver != requester != subject, by identity; the requester still holds the role asked in;
 * the approver holds an approver role of the row now; and the approver is not a person the
 * requester set up (the "fake second person").
 */
export function decideApproval(action: DutyAction, facts: ApprovalFacts): ApprovalDecision {
  const row = dutyRow(action);
  if (row.approvers.length === 0) throw new TypeError(`${action} never waits for an approval`);
  if (!facts.requesterBound || !facts.requesterHoldsRole) return { ok: false, refusal: 'requester-lost-role' };
  if (facts.approverId === facts.requesterId) return { ok: false, refusal: 'same-person' };
  const role = facts.approverBound ? row.approvers.find((r) => facts.approverRoles.includes(r)) : undefined;
  if (!role) return { ok: false, refusal: 'approver-lacks-role' };
  if (facts.subjectIds.includes(facts.approverId)) return { ok: false, refusal: 'approver-is-subject' };
  if (facts.approverSetUpByRequester) return { ok: false, refusal: 'approver-set-up-by-requester' };
  return { ok: true, approverRole: role };
}

/** What each refusal means, for the audit trail and the problem+json detail. */
export const APPROVAL_REFUSAL_TEXT: Readonly<Record<ApprovalRefusal, string>> = {
  'requester-lost-role': 'The person who asked no longer holds the role they asked in; the request is withdrawn.',
  'same-person': 'Four eyes: a different person must approve this request.',
  'approver-lacks-role': 'Approving this request needs a role you do not hold.',
  'approver-is-subject': 'You cannot approve a request about yourself or your own keys.',
  'approver-set-up-by-requester':
    'You cannot approve this request: the person who asked created or changed your identity, your roles or your contact data, so you are not an independent second person.',
};

export interface ControlStatus {
  action: DutyAction;
  title: string;
  approvers: readonly StaffRole[];
  /** Bound people holding an approver role. */
  pool: number;
  /** False while the row lets one person act alone for want of a second (bootstrap). */
  on: boolean;
}

/** Which two-person controls are on now, given how many people hold each row's approver roles. */
export function twoPersonControls(poolOf: (approvers: readonly StaffRole[]) => number): ControlStatus[] {
  return DUTY_TABLE.filter((r) => r.approval !== 'never').map((r) => {
    const pool = poolOf(r.approvers);
    return { action: r.action, title: r.title, approvers: r.approvers, pool, on: !(r.bootstrap === 'alone' && pool < 2) };
  });
}

export function isStaffRole(role: string): role is StaffRole {
  return STAFF_ROLES.some((r) => r === role);
}

/** The actions that can wait for a second person (the kinds of the approvals table). */
export function isApprovalKind(action: DutyAction): action is ApprovalKind {
  return APPROVAL_KINDS.some((k) => k === action);
}
