/**
 * NSIS levels of assurance and how they combine (NSIS 6 (Low) 2: the token's LoA is the minimum
 * over the authentication chain: identity (IAL), authenticator (AAL) and the broker (FAL)).
 */
import { IDENTITY_ASSURANCE_LEVELS, type AssuranceLevel } from '../domain/types.js';

export function minLevel(...levels: AssuranceLevel[]): AssuranceLevel {
  let min = IDENTITY_ASSURANCE_LEVELS.length - 1;
  for (const l of levels) min = Math.min(min, IDENTITY_ASSURANCE_LEVELS.indexOf(l));
  const out = IDENTITY_ASSURANCE_LEVELS[min];
  if (out === undefined) throw new TypeError('minLevel needs at least one level');
  return out;
}

const URI_NAMES: Record<AssuranceLevel, string> = { low: 'Low', substantial: 'Substantial', high: 'High' };

/** The NSIS LoA URI used in tokens, e.g. https://data.gov.dk/concept/core/nsis/loa/Substantial. */
export function loaUri(level: AssuranceLevel): string {
  return `https://data.gov.dk/concept/core/nsis/loa/${URI_NAMES[level]}`;
}

/**
 * The authenticator assurance one sign-in reached, from the evidence of that sign-in:
 * NSIS 3.2.1 (Substantial) 1-2: two factors (possession + PIN/biometric, i.e. user verification)
 * on a device-bound key (not backup-eligible). Possession alone is Low. High needs attestation
 * evidence and certification: the level the attestation policy granted the key (assurance/policy.ts).
 */
export function authenticatorLevel(evidence: { userVerified: boolean; backupEligible: boolean; keyLevel?: AssuranceLevel | null }): AssuranceLevel {
  if (!evidence.userVerified || evidence.backupEligible) return 'low';
  // The key's own ceiling, decided from its attestation evidence by the policy at registration.
  return evidence.keyLevel ?? 'substantial';
}

/** RFC 8176 authentication method references for a security-key sign-in. */
export function amrFor(evidence: { userVerified: boolean }): string[] {
  return evidence.userVerified ? ['hwk', 'pin'] : ['hwk', 'user'];
}
