/** A sign-in session as the store keeps it: only the hash of its id. No I/O. */
import type { AssuranceLevel } from './types.js';

export interface SessionRecord {
  idHash: string;
  identityId: string;
  credentialId: string;
  /** Authenticator assurance reached at this sign-in, and the RFC 8176 methods used. */
  aal: AssuranceLevel;
  amr: string[];
  /** Public session id for OpenID Connect logout tokens (never the cookie value). */
  sid: string | null;
  createdAt: string;
  lastSeenAt: string;
  absoluteExpiresAt: string;
  endedAt: string | null;
  endReason: string | null;
}

export type NewSession = Omit<SessionRecord, 'endedAt' | 'endReason'>;
