/**
 * Records of the security keys' life cycle besides the key itself (types.ts): a key as
 * registered, its state history, its enrolment link, its activation codes and the WebAuthn
 * challenges of its ceremonies. No I/O.
 */
import type { AssuranceLevel, Credential, CredentialState, ReasonCode } from './types.js';

/** A key as registration inserts it (its use, activation and update times come later). */
export type NewCredential = Omit<Credential, 'lastUsedAt' | 'activatedAt' | 'updatedAt' | 'stateReason'> & {
  stateReason: ReasonCode | null;
};

/** A key re-rated (e.g. a certification downgrade in newer FIDO metadata). */
export interface AssuranceUpdate {
  aal: AssuranceLevel;
  model: string | null;
  certification: string | null;
  reasons: string[];
}

/** One row of a key's state history: the lifecycle row taken, by whom, why, and its audit event. */
export interface CredentialEvent {
  id: number;
  credentialId: string;
  action: string;
  fromState: CredentialState | null;
  toState: CredentialState;
  actorId: string | null;
  actorRole: string;
  reason: ReasonCode;
  note: string | null;
  clause: string;
  at: string;
  auditSeq: number;
}

export type NewCredentialEvent = Omit<CredentialEvent, 'id'>;

export interface Enrolment {
  id: string;
  identityId: string;
  createdBy: string | null;
  /** A replacement enrolment (NSIS 3.2.4): the key it replaces and on what basis. */
  replacesCredentialId: string | null;
  basis: string | null;
  createdAt: string;
  expiresAt: string;
  consumedAt: string | null;
  supersededAt: string | null;
  /** Failed registrations through this link; it locks at the limit (NSIS 3.2.2). */
  failedAttempts: number;
  lockedAt: string | null;
}

/** An enrolment as issued: stored only with the keyed hash of its token. */
export type NewEnrolment = Omit<Enrolment, 'failedAttempts' | 'lockedAt'> & { tokenHash: string };

export interface ActivationCodeRecord {
  id: string;
  credentialId: string;
  purpose: 'activate' | 'reactivate';
  codeHash: string;
  requestedBy: string | null;
  createdAt: string;
  expiresAt: string;
  failedAttempts: number;
  consumedAt: string | null;
  supersededAt: string | null;
  lockedAt: string | null;
}

export type NewActivationCode = Omit<ActivationCodeRecord, 'failedAttempts' | 'consumedAt' | 'supersededAt' | 'lockedAt'>;

/** One evaluation of a code counted before it is compared (issue 13, 3), or why it was not. */
export type CodeAttempt = { counted: true; attempts: number; codeHash: string } | { counted: false; why: 'locked' | 'used' | 'expired' };

export type Ceremony = 'registration' | 'activation' | 'signin';
export const CEREMONIES = ['registration', 'activation', 'signin'] as const satisfies readonly Ceremony[];

export interface ChallengeRecord {
  challenge: string;
  /** SHA-256 of the browser flow cookie the challenge is bound to (NSIS 3.3.1). */
  flowHash: string;
  ceremony: Ceremony;
  identityId: string | null;
  enrolmentId: string | null;
  createdAt: string;
  expiresAt: string;
  consumedAt: string | null;
}

export type NewChallenge = Omit<ChallengeRecord, 'consumedAt'>;

/** What the registered keys look like, as counts (no ids, no people): the decoys imitate it. */
export interface KeyPopulation {
  /** How many people (with an active binding) have `keys` keys, for each `keys` >= 1. */
  keysPerPerson: { keys: number; people: number }[];
  /** How many registered keys have an id of `idBytes` bytes and exactly these `transports`. */
  shapes: { idBytes: number; transports: string[]; keys: number }[];
}

/** One line of the fleet report: keys by model, certification, level and state. */
export interface FleetRow {
  aaguid: string;
  model: string | null;
  certification: string | null;
  aal: string | null;
  state: string;
  count: number;
}
