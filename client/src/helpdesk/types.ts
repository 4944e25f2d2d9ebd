// The helpdesk page's API types (as GET /api/helpdesk/... answers) and its fixed words: reason
// lists of the lifecycle table, request kinds.
import { t, wrapIn } from '../common.js';
import type { Credential, CredentialState } from '../common.js';
import type { BindingState } from '../console.js';
import type { ApprovalFields } from '../duties.js';

export interface HistoryEntry {
  action: string;
  fromState: CredentialState | null;
  toState: CredentialState;
  actorId: string | null;
  actorName?: string | null;
  actorRole: string;
  reason: string;
  note: string | null;
  clause: string;
  at: string;
}

/** A key as the helpdesk reads it: the common fields (without "current", the viewer's own session) and its history. */
export interface HdCredential extends Omit<Credential, 'current'> {
  history?: HistoryEntry[];
}

export interface PersonIdentity {
  id: string;
  name: string;
  email: string;
  roles: string[];
  ial: string;
  bindingState: BindingState;
  proofingMethod?: string | null;
  proofedBy?: string | null;
  createdAt?: string | null;
  bindingEndedAt?: string | null;
  subjectNameId?: string | null;
}

export interface PersonView {
  identity: PersonIdentity;
  credentials: HdCredential[];
}

export interface AuditEvent {
  seq: number;
  at: string;
  type: string;
  actorId: string | null;
  actorName?: string | null;
  actorRole: string;
  subjectId: string | null;
  data: Record<string, unknown> | null;
}

export type ApprovalState = 'pending' | 'executed' | 'rejected' | 'failed' | 'withdrawn';

export interface Approval extends ApprovalFields {
  id: string;
  kind: 'bulk' | 'replacement' | string;
  summary: string;
  requestedBy: string;
  requestedByName?: string | null;
  requestedAt: string;
  state: ApprovalState;
  decidedBy: string | null;
  decidedByName?: string | null;
  decidedAt: string | null;
  result: string | null;
}

export interface BulkResult {
  credentialId: string;
  ok: boolean;
  code?: string;
  detail?: string;
}

export type KeyAction = 'suspend' | 'reactivate' | 'revoke';

export const SUSPEND_REASONS = ['lost', 'suspected-compromise', 'suspected-clone', 'holder-request', 'other'] as const;
export const REACTIVATE_REASONS = ['found', 'other'] as const;
export const RESEND_REASONS = ['holder-request', 'other'] as const;
export const REVOKE_REASONS = [
  'lost',
  'damaged',
  'suspected-compromise',
  'suspected-clone',
  'data-error',
  'agreement-ended',
  'holder-ceased',
  'employment-ended',
  'replaced',
  'holder-request',
  'other',
] as const;

/** A key suspended for these reasons can only be revoked (the lifecycle table's guard). */
export const NO_REACTIVATION = new Set(['suspected-compromise', 'suspected-clone']);

/** A request's kind in words; a kind the page does not know is shown as its code. */
export function kindWordsOf(kind: string): string {
  if (kind === 'bulk' || kind === 'replacement' || kind === 'contact-change') return t(`helpdesk.kind.${kind}`);
  return kind.replace(/[_-]+/g, ' ');
}
export const strong = wrapIn('strong');
