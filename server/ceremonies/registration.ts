/**
 * WebAuthn registration around @simplewebauthn/server. Pure: returns what to store; the caller
 * persists (CONVENTIONS 3).
 */
import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { CeremonyError } from '../errors.js';

export interface RegistrationOptionsInput {
  rpName: string;
  rpId: string;
  userId: string;
  userName: string;
  userDisplayName: string;
  excludeCredentialIds: string[];
  /** "enterprise" lets managed keys reveal their individual attestation (where the RP ID is allowed). */
  attestation: 'direct' | 'enterprise';
}

export async function buildRegistrationOptions(input: RegistrationOptionsInput): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: input.rpName,
    rpID: input.rpId,
    userID: new TextEncoder().encode(input.userId),
    userName: input.userName,
    userDisplayName: input.userDisplayName,
    timeout: 120_000,
    // Evidence for the key's assurance (NSIS 3.2.1); verified against FIDO metadata in a later step.
    attestationType: input.attestation,
    excludeCredentials: input.excludeCredentialIds.map((id) => ({ id })),
    authenticatorSelection: {
      // NSIS 3.2.1 (Substantial) 2: two factors, possession plus PIN or biometric.
      userVerification: 'required',
      residentKey: 'preferred',
    },
    supportedAlgorithmIDs: [-7, -257, -8],
  });
}

export interface RegisteredKey {
  credentialId: string;
  publicKey: Uint8Array;
  signCount: number;
  aaguid: string;
  transports: string[];
  backupEligible: boolean;
  backupState: boolean;
  attestationFormat: string;
  attestationObject: Uint8Array;
  userVerified: boolean;
}

export async function verifyRegistration(
  response: RegistrationResponseJSON,
  expected: { challenge: string; origin: string; rpId: string },
): Promise<RegisteredKey> {
  let result;
  try {
    result = await verifyRegistrationResponse({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: expected.origin,
      expectedRPID: expected.rpId,
      requireUserVerification: true,
      supportedAlgorithmIDs: [-7, -257, -8],
    });
  } catch (err) {
    throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.', err);
  }
  if (!result.verified) throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.');
  const info = result.registrationInfo;
  return {
    credentialId: info.credential.id,
    publicKey: info.credential.publicKey,
    signCount: info.credential.counter,
    aaguid: info.aaguid,
    transports: [...(response.response.transports ?? [])].filter((t): t is string => typeof t === 'string').slice(0, 8),
    backupEligible: info.credentialDeviceType === 'multiDevice',
    backupState: info.credentialBackedUp,
    attestationFormat: info.fmt,
    attestationObject: info.attestationObject,
    userVerified: info.userVerified,
  };
}
