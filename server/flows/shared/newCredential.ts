/**
 * The record of a key just registered, in state `issued` (NSIS 3.2.2: it becomes usable only when
 * activated with its code). One place for every way a key is bound: an enrolment link
 * (flows/enrolment/completeEnrolment.ts) and a key added from a session (flows/keys/addOwnKey.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Assessment } from '../../assurance/AssuranceService.js';
import type { RegisteredKey } from '../../ceremonies/registration.js';
import type { Credential } from '../../domain/types.js';
import { cleanLabel } from './text.js';

export function newIssuedCredential(p: {
  identityId: string;
  key: RegisteredKey;
  label: string;
  at: Date;
  enrolmentId: string | null;
  assessment: Assessment;
  /** The level granted (the assessment's, or lower when bound through a weaker session). */
  aal: Credential['aal'];
  aalReasons: string[];
}): Credential {
  const { key, at, assessment } = p;
  return {
    id: randomUUID(),
    identityId: p.identityId,
    credentialId: key.credentialId,
    publicKey: key.publicKey,
    aaguid: key.aaguid,
    signCount: key.signCount,
    transports: key.transports,
    backupEligible: key.backupEligible,
    backupState: key.backupState,
    attestationFormat: key.attestationFormat,
    attestationObject: key.attestationObject,
    userVerifiedAtRegistration: key.userVerified,
    label: cleanLabel(p.label),
    state: 'issued',
    stateReason: null,
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
    activatedAt: null,
    lastUsedAt: null,
    expiresAt: null,
    enrolmentId: p.enrolmentId,
    aal: p.aal,
    attestationVerified: assessment.evidence.attestationVerified,
    model: assessment.model,
    certification: assessment.evidence.certification,
    aalReasons: p.aalReasons,
  };
}
