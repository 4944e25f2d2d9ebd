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
import { decodeAttestationObject, isoCBOR } from '@simplewebauthn/server/helpers';
import { CeremonyError } from '../errors.js';
import { isCrossOrigin } from './authentication.js';
import { COSE_ECDSA_ALGS, isStrictDerEcdsaSignature } from './derSignature.js';

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
  if (isCrossOrigin(response.response.clientDataJSON)) {
    throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.', new Error('cross-origin response'));
  }
  if (!attestationObjectIsExact(response)) {
    throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.', new Error('attestation object is not exact CBOR'));
  }
  if (!attestationSignatureIsDer(response)) {
    throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.', new Error('attestation signature is not DER'));
  }
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

/**
 * WebAuthn §6.5 (CTAP2 canonical CBOR): the attestation object is exactly the encoding of what it
 * decodes to. The library's decoder clamps a byte string whose declared length runs past the end
 * of the input, so a corrupted length of the last item (authData) would otherwise go unnoticed.
 * Re-encoding what was decoded gives the same bytes for every well-formed authenticator output
 * (the library itself relies on that to walk authData).
 */
function attestationObjectIsExact(response: RegistrationResponseJSON): boolean {
  const raw = new Uint8Array(Buffer.from(response.response.attestationObject, 'base64url'));
  let again: Uint8Array;
  try {
    again = isoCBOR.encode(isoCBOR.decodeFirst<Parameters<typeof isoCBOR.encode>[0]>(raw));
  } catch {
    return true; // does not decode: the library refuses it with its own reason
  }
  return Buffer.from(again).equals(Buffer.from(raw));
}

/**
 * WebAuthn §8.2, §8.4, §8.6: an ECDSA attestation signature (packed and android-key with an ECDSA
 * alg, fido-u2f always) is exactly DER; the library's parser is lenient (see derSignature.ts).
 * Anything that does not decode is left to the library to refuse.
 */
function attestationSignatureIsDer(response: RegistrationResponseJSON): boolean {
  let fmt: string;
  let sig: Uint8Array | undefined;
  let alg: number | undefined;
  try {
    const att = decodeAttestationObject(new Uint8Array(Buffer.from(response.response.attestationObject, 'base64url')));
    fmt = att.get('fmt');
    const stmt = att.get('attStmt');
    sig = stmt.get('sig');
    alg = stmt.get('alg');
  } catch {
    return true;
  }
  if (!(sig instanceof Uint8Array)) return true;
  const ecdsa = fmt === 'fido-u2f' || ((fmt === 'packed' || fmt === 'android-key') && typeof alg === 'number' && COSE_ECDSA_ALGS.includes(alg));
  return !ecdsa || isStrictDerEcdsaSignature(sig);
}
