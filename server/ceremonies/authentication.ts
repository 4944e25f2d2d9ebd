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
import { CeremonyError } from '../errors.js';

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
  backedUp: boolean;
}

export async function verifyAssertion(
  response: AuthenticationResponseJSON,
  expected: { challenge: string; origin: string; rpId: string },
  key: { credentialId: string; publicKey: Uint8Array; transports: string[] },
): Promise<VerifiedAssertion> {
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
