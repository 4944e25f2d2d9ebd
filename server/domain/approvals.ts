/**
 * The one approvals record: every action of the duties table that waits for a second person,
 * with the role its requester asked in and the role its approver held (NSIS 3.2.2 (High) 3,
 * 3.2.3 (Low) 2, 3.2.4, 5.1, 6 (Substantial) 11). No I/O.
 */
import type { ApprovalKind, StaffRole } from '../duties/table.js';

export type { ApprovalKind } from '../duties/table.js';
export type ApprovalState = 'pending' | 'executed' | 'rejected' | 'failed' | 'withdrawn';
export const APPROVAL_STATES = ['pending', 'executed', 'rejected', 'failed', 'withdrawn'] as const satisfies readonly ApprovalState[];

export interface ApprovalRecord {
  id: string;
  kind: ApprovalKind;
  /** The flow's own parameters, as JSON (parsed with the flow's schema when carried out). */
  payload: string;
  summary: string;
  /** Exactly what will happen, one line per person or key, by name. */
  items: string[];
  /** The identities the request is about. */
  subjects: string[];
  requestedBy: string;
  requestedRole: StaffRole;
  requestedAt: string;
  state: ApprovalState;
  decidedBy: string | null;
  decidedRole: StaffRole | null;
  decidedAt: string | null;
  result: string | null;
}

export type NewApproval = Omit<ApprovalRecord, 'state' | 'decidedBy' | 'decidedRole' | 'decidedAt' | 'result'>;
