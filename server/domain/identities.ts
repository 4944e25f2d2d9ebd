/** Records about people: a new binding, and who set up each part of an identity. No I/O. */
import type { Language } from '../../i18n/languages.js';
import type { AssuranceLevel } from './types.js';

export interface NewIdentity {
  id: string;
  organisationId: string;
  name: string;
  email: string;
  ial: AssuranceLevel;
  proofingMethod: string;
  proofedBy: string | null;
  createdAt: string;
  /** The language the binding set (CSV import, SCIM, the page at enrolment); absent: not chosen. */
  language?: Language | null;
}

/** How email addresses are compared: one person, one address, whatever the case or spacing. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export type SetupAspect = 'identity' | 'role' | 'contact' | 'name';
export const SETUP_ASPECTS = ['identity', 'role', 'contact', 'name'] as const satisfies readonly SetupAspect[];

/**
 * Who set up one part of an identity: created it, granted a staff role, changed its contact data
 * or its name, and who approved that (append-only). The duties flow asks whether an approver is a
 * person the requester set up, and whether an address was set up by an enrolment's issuer alone.
 */
export interface SetupRecord {
  identityId: string;
  aspect: SetupAspect;
  detail: string | null;
  /** Who asked for it (null: the operator at installation, or the gateway itself). */
  setBy: string | null;
  /** The second person who approved it (null: done alone). */
  approvedBy: string | null;
  at: string;
}
