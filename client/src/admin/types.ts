// What the admin API answers (POST/PATCH/roles/enrolments/import), and the words for its outcomes.
import { t, tp } from '../common.js';
import type { BindingState } from '../console.js';

/** An identity as the admin API answers it (POST/PATCH/roles); the search adds key counts. */
export interface AdminIdentity {
  id: string;
  name: string;
  email: string;
  roles: string[];
  ial: string;
  bindingState: BindingState;
  createdAt?: string;
  keyCount?: number;
  activeKeyCount?: number;
}

/** An enrolment issued: mailed to the person (the default), or shown once to hand over. */
export interface EnrolmentIssued {
  delivery: 'mail' | 'handover';
  link?: string;
  sentTo?: string | null;
  expiresAt: string;
}

/** Staff roles asked for: granted (alone, in bootstrap) or waiting for a second administrator. */
export type RolesOutcome = { state: 'granted'; bootstrap: boolean } | { state: 'pending'; approval: { id: string } } | null;

/** `revokedKeys` may be a count or a list of the revoked keys. */
export type RevokedKeys = number | unknown[] | null | undefined;

export interface ImportReport {
  created: Array<{ row: number; id: string; email: string }>;
  skipped: Array<{ row: number; email: string; reason: string }>;
  roles?: Array<{ row: number; email: string; roles: string[]; state: 'granted' | 'pending' }>;
}

/** Words for staff roles asked for at creation or in a grant. */
export function rolesOutcomeText(outcome: RolesOutcome): string {
  if (!outcome) return '';
  if (outcome.state === 'pending') return t('admin.rolesOutcome.pending');
  return outcome.bootstrap ? t('admin.rolesOutcome.bootstrap') : t('admin.rolesOutcome.granted');
}

export function countOf(revoked: RevokedKeys): number | null {
  if (Array.isArray(revoked)) return revoked.length;
  if (typeof revoked === 'number') return revoked;
  return null;
}

export function revokedText(revoked: RevokedKeys): string {
  const n = countOf(revoked);
  if (n === null) return '';
  return n === 0 ? t('admin.revoked.none') : tp('admin.revoked', n);
}
