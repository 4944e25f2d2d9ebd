/**
 * Decides each new key's authenticator assurance from its registration evidence: the attestation
 * (verified against the FIDO metadata's trust anchors for its AAGUID), the metadata's
 * certification and status, user verification and the backup flags; then the policy.
 */
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import type { Clock } from '../clock.js';
import { chainsToAnchor } from './attestationChain.js';
import { decideAal, type AalDecision, type AttestationPolicy, type AuthenticatorEvidence } from './policy.js';

/** What the gateway needs from the FIDO metadata about one model. */
export interface MetadataEntry {
  description: string | null;
  attestationRootCertificates: string[];
  certificationStatus: string | null;
  compromised: boolean;
}

export interface MetadataLookup {
  lookup(aaguid: string): MetadataEntry | undefined;
}

export interface Assessment {
  decision: AalDecision;
  evidence: AuthenticatorEvidence;
  model: string | null;
}

export class AssuranceService {
  constructor(
    private readonly policy: AttestationPolicy,
    private readonly metadata: MetadataLookup | undefined,
    private readonly clock: Clock,
  ) {}

  assess(key: { aaguid: string; attestationObject: Uint8Array; userVerified: boolean; backupEligible: boolean }): Assessment {
    const decoded = decodeAttestationObject(new Uint8Array(key.attestationObject));
    const fmt = decoded.get('fmt');
    const x5c = decoded.get('attStmt').get('x5c') ?? [];
    const entry = this.metadata?.lookup(key.aaguid);
    // The library has already checked the attestation signature with x5c[0] during registration;
    // here the certificate chain must lead to a root the metadata names for this very AAGUID.
    const verified = fmt !== 'none' && x5c.length > 0 && entry !== undefined && chainsToAnchor(x5c, entry.attestationRootCertificates, this.clock.now());
    const evidence: AuthenticatorEvidence = {
      aaguid: key.aaguid,
      attestationFormat: fmt,
      attestationVerified: verified,
      certification: verified ? (entry?.certificationStatus ?? null) : null,
      compromised: entry?.compromised ?? false,
      userVerified: key.userVerified,
      backupEligible: key.backupEligible,
    };
    return { decision: decideAal(evidence, this.policy), evidence, model: verified ? (entry?.description ?? null) : null };
  }

  /** Re-rates a stored key when the metadata changes (e.g. a certification downgrade). */
  reassess(key: { aaguid: string; attestationObject: Uint8Array; userVerifiedAtRegistration: boolean; backupEligible: boolean }): Assessment {
    return this.assess({ aaguid: key.aaguid, attestationObject: key.attestationObject, userVerified: key.userVerifiedAtRegistration, backupEligible: key.backupEligible });
  }
}
