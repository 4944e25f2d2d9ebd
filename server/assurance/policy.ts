/**
 * The authenticator assurance policy (NSIS 3.2.1, 3.3): which level a key really reaches, from
 * the evidence of its registration. One function, one table of rules, tested row by row.
 *
 *   Refused      AAGUID on the block list (verified attestation only), not on the allow list when
 *                one is set, synced (backup-eligible) when device-bound keys are required, or a
 *                model the FIDO metadata reports compromised.
 *   High         NSIS 3.2.1 (High) 5-6: a verified attestation chaining to the metadata statement
 *                of a model certified at least at the configured level, not compromised, user
 *                verification performed, device-bound.
 *   Substantial  NSIS 3.2.1 (Substantial) 1-2: two factors (possession plus PIN or biometric),
 *                device-bound; attestation optional.
 *   Low          possession only.
 */
import type { AssuranceLevel } from '../domain/types.js';

export const CERTIFICATION_ORDER = [
  'FIDO_CERTIFIED_L1',
  'FIDO_CERTIFIED_L1plus',
  'FIDO_CERTIFIED_L2',
  'FIDO_CERTIFIED_L2plus',
  'FIDO_CERTIFIED_L3',
  'FIDO_CERTIFIED_L3plus',
] as const;
export type Certification = (typeof CERTIFICATION_ORDER)[number];

export interface AttestationPolicy {
  highCertification: Certification;
  requireDeviceBound: boolean;
  allowAaguids: readonly string[] | null;
  blockAaguids: readonly string[];
}

export interface AuthenticatorEvidence {
  aaguid: string;
  attestationFormat: string;
  /** The attestation's certificate chain validated up to a metadata root for this AAGUID. */
  attestationVerified: boolean;
  /** From the FIDO metadata (only used when the attestation is verified). */
  certification: string | null;
  compromised: boolean;
  userVerified: boolean;
  backupEligible: boolean;
}

export type AalDecision = { level: AssuranceLevel; refused: false; reasons: string[] } | { level: null; refused: true; reasons: string[] };

export function certificationAtLeast(actual: string | null, required: Certification): boolean {
  if (actual === null) return false;
  const a = CERTIFICATION_ORDER.indexOf(actual as Certification);
  return a >= 0 && a >= CERTIFICATION_ORDER.indexOf(required);
}

export function decideAal(e: AuthenticatorEvidence, p: AttestationPolicy): AalDecision {
  const aaguid = e.aaguid.toLowerCase();
  // An AAGUID from an unverified ("none" or self) attestation can be forged: rules about models
  // are only ever satisfied by verified evidence.
  if (e.attestationVerified && p.blockAaguids.includes(aaguid)) return { level: null, refused: true, reasons: ['model on the block list'] };
  if (p.allowAaguids !== null && !(e.attestationVerified && p.allowAaguids.includes(aaguid))) {
    return { level: null, refused: true, reasons: ['not a verified model on the allow list'] };
  }
  if (p.requireDeviceBound && e.backupEligible) return { level: null, refused: true, reasons: ['synced (backup-eligible) credentials are not accepted'] };
  if (e.attestationVerified && e.compromised) return { level: null, refused: true, reasons: ['the FIDO metadata reports this model compromised'] };
  if (!e.userVerified) return { level: 'low', refused: false, reasons: ['possession only: no user verification'] };
  if (e.backupEligible) return { level: 'low', refused: false, reasons: ['synced credential: not device-bound'] };
  if (e.attestationVerified && certificationAtLeast(e.certification, p.highCertification)) {
    return { level: 'high', refused: false, reasons: [`verified attestation, ${e.certification ?? ''}, user verification, device-bound`] };
  }
  const why = e.attestationVerified ? `certification ${e.certification ?? 'unknown'} below ${p.highCertification}` : 'attestation not verified against FIDO metadata';
  return { level: 'substantial', refused: false, reasons: ['two factors, device-bound', why] };
}
