/**
 * WebAuthn authentication (NSIS 3.3.1): user verification required, origin and RP ID checked.
 * Pure: returns the new counter and flags; the sign-counter policy (clone detection) is the
 * caller's, so the library's own counter check is neutralised by passing counter 0 and the real
 * comparison is done by `counterWentBackwards` once the signature has verified.
 */
import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { cose, decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';
import { CeremonyError } from '../errors.js';
import { isStrictDerEcdsaSignature } from './derSignature.js';

export async function buildAuthenticationOptions(input: {
  rpId: string;
  allowCredentials: { id: string; transports: string[] }[];
}): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: input.rpId,
    timeout: 120_000,
    userVerification: 'required',
    allowCredentials: input.allowCredentials.map((c) => ({
      id: c.id,
      transports: c.transports.filter(isTransport),
    })),
  });
}

const TRANSPORTS: readonly AuthenticatorTransport[] = ['ble', 'hybrid', 'internal', 'nfc', 'usb'];
export function isTransport(t: string): t is AuthenticatorTransport {
  return (TRANSPORTS as readonly string[]).includes(t);
}

export interface VerifiedAssertion {
  newCounter: number;
  userVerified: boolean;
  /** The BE flag of this assertion (the credential may be backed up: a synced key). */
  backupEligible: boolean;
  /** The BS flag of this assertion (the credential is backed up now). */
  backedUp: boolean;
}

/**
 * WebAuthn L3 §7.2 (the step comparing the BE flag with the credential record): backup
 * eligibility is fixed when the credential is created (§6.1.3), so an assertion whose BE differs
 * from the registered value comes from another credential source or a key that became synced.
 * Returns the refusal's audit data, or undefined when the flag matches.
 */
export function backupEligibilityChange(registered: boolean, presented: VerifiedAssertion): { reason: 'backup-eligibility-changed'; registered: boolean; presented: boolean } | undefined {
  return registered === presented.backupEligible ? undefined : { reason: 'backup-eligibility-changed', registered, presented: presented.backupEligible };
}

/** True when the stored COSE public key is an EC2 (ECDSA) key; undefined when it does not decode. */
function isEc2Key(publicKey: Uint8Array): boolean | undefined {
  try {
    return decodeCredentialPublicKey(new Uint8Array(publicKey)).get(cose.COSEKEYS.kty) === cose.COSEKTY.EC2;
  } catch {
    return undefined;
  }
}

export async function verifyAssertion(
  response: AuthenticationResponseJSON,
  expected: { challenge: string; origin: string; rpId: string },
  key: { credentialId: string; publicKey: Uint8Array; transports: string[]; identityId: string },
): Promise<VerifiedAssertion> {
  const refuse = (why: string): CeremonyError => new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.', new Error(why));
  // WebAuthn §7.2 step 6: a returned user handle must be that of the credential's owner (the user
  // id given at registration: the identity id's bytes). The signature does not cover it.
  const handle = response.response.userHandle;
  if (handle !== undefined && !Buffer.from(handle, 'base64url').equals(Buffer.from(key.identityId, 'utf8'))) {
    throw refuse("userHandle is not the credential owner's");
  }
  if (isCrossOrigin(response.response.clientDataJSON)) throw refuse('cross-origin response');
  // WebAuthn §6.5.5: exactly the DER encoding of an ECDSA signature (the library is lenient).
  const ec2 = isEc2Key(key.publicKey);
  if (ec2 === undefined) throw refuse('stored public key does not decode');
  if (ec2 && !isStrictDerEcdsaSignature(Buffer.from(response.response.signature, 'base64url'))) throw refuse('signature is not DER');
  let result;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: expected.origin,
      expectedRPID: expected.rpId,
      requireUserVerification: true,
      credential: {
        id: key.credentialId,
        publicKey: new Uint8Array(key.publicKey),
        counter: 0,
        transports: key.transports.filter(isTransport),
      },
    });
  } catch (err) {
    throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.', err);
  }
  if (!result.verified) throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.');
  return {
    newCounter: result.authenticationInfo.newCounter,
    userVerified: result.authenticationInfo.userVerified,
    // The library has already refused BS without BE (§7.2: "if BE is not set, verify BS is not set").
    backupEligible: result.authenticationInfo.credentialDeviceType === 'multiDevice',
    backedUp: result.authenticationInfo.credentialBackedUp,
  };
}

/**
 * WebAuthn §6.1.1: a key that keeps a counter must present a strictly greater value each time.
 * Keys that keep none report 0 forever, which is not a regression.
 */
export function counterWentBackwards(stored: number, presented: number): boolean {
  return (stored > 0 || presented > 0) && presented <= stored;
}

/**
 * WebAuthn §7.1 step 10, §7.2 step 14 (L3): a ceremony inside a cross-origin iframe is accepted only
 * where the RP expects one. The gateway never does (its pages send frame-ancestors 'none'), so a
 * response saying crossOrigin: true is refused, with or without a topOrigin (the library lets one
 * without topOrigin through, for Safari).
 */
export function isCrossOrigin(clientDataJSON: string): boolean {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && 'crossOrigin' in parsed && parsed.crossOrigin !== false;
  } catch {
    return false;
  }
}

/** Reads the challenge out of clientDataJSON without trusting anything else in it. */
export function challengeOf(clientDataJSON: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'challenge' in parsed && typeof parsed.challenge === 'string') {
      return parsed.challenge;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
