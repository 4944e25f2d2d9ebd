/**
 * The attribute read-back of a signing key on every HSM token, as the security page and
 * `npm run keys -- list` show it: per token whether the key is there, whether its public key
 * object is there, every attribute read and whether the profile in force requires it.
 * NSIS 4.1.6 (Low) 3, 6 (Low) 4.
 */
import { type EcP256PublicJwk, type HsmGroup, type KeyAttributeReading, type KeyPolicyProfile, readSigningKeyAttributes } from '../../hsm/index.js';

export interface TokenAttributeCheck {
  token: string;
  status: 'ok' | 'unavailable';
  /** The private key is on this token. */
  present: boolean;
  publicKeyPresent: boolean;
  /** The private key honours the profile on this token. */
  ok: boolean;
  /** `ATTRIBUTE: rule` of each required attribute that does not comply. */
  violations: string[];
  readings: KeyAttributeReading[];
  error?: string;
}

export interface KeyAttributeCheck {
  /** The key is on at least one token and honours the profile on every token that holds it. */
  ok: boolean;
  violations: string[];
  error?: string;
  profile: KeyPolicyProfile;
  tokens: TokenAttributeCheck[];
}

export async function checkKeyOnTokens(hsm: HsmGroup, ckaId: string, profile: KeyPolicyProfile): Promise<KeyAttributeCheck> {
  const tokens: TokenAttributeCheck[] = [];
  for (const member of hsm.members) {
    const base = { token: member.name, status: member.status, present: false, publicKeyPresent: false, ok: false, violations: [], readings: [] };
    if (member.status !== 'ok') {
      tokens.push({ ...base, error: 'token unavailable' });
      continue;
    }
    try {
      const { readings, publicKeyPresent } = await readSigningKeyAttributes(member, ckaId, 'ES256', profile);
      const violations = readings.filter((r) => r.required && !r.complies).map((r) => `${r.attribute}: ${r.rule}`);
      tokens.push({ ...base, present: true, publicKeyPresent, ok: violations.length === 0, violations, readings });
    } catch (err) {
      tokens.push({ ...base, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const holding = tokens.filter((t) => t.present);
  const violations = [...new Set(holding.flatMap((t) => t.violations))];
  const ok = holding.length > 0 && holding.every((t) => t.ok);
  const firstError = tokens.find((t) => t.error !== undefined && t.status === 'ok')?.error;
  return { ok, violations, profile, tokens, ...(holding.length === 0 && firstError ? { error: firstError } : {}) };
}

/** The recorded public key as an ES256 JWK, if it is one. */
export function ecJwkOf(jwk: Readonly<Record<string, string>>): EcP256PublicJwk | undefined {
  const { kty, crv, x, y } = jwk;
  return kty === 'EC' && crv === 'P-256' && x !== undefined && y !== undefined ? { kty, crv, x, y } : undefined;
}
