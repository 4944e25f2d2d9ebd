/**
 * The options of a security-key sign-in (NSIS 3.3.1): every key of the address, whatever its
 * state (the options must not reveal which keys are usable; an attempt with a suspended key
 * reaches us and is audited with its exact reason), or decoys shaped like real keys for an
 * address nobody holds (issue 13, 8). The challenge goes to the ephemeral store: no fsync.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { buildAuthenticationOptions } from '../../ceremonies/index.js';
import type { Credential } from '../../domain/types.js';
import type { CoreDeps } from '../deps.js';
import { putChallenge } from '../shared/challenges.js';
import { decoysOutsideRead } from '../shared/decoys.js';

/** The bound person of an address and their keys (undefined: nobody bound holds it). */
export type KeysOfEmail = { identityId: string; keys: Credential[] } | undefined;

/** The person and their keys in ONE statement (issue 17: no BEGIN/COMMIT around it). */
export function keysOfEmail(deps: CoreDeps, email: string): Promise<KeysOfEmail> {
  return deps.store.read((tx) => tx.credentials.keysOfActiveEmail(email), { oneStatement: true });
}

/**
 * `read`: what THIS request already read for `email` with {@link keysOfEmail} (the rate limits'
 * trusted-browser check, issue 17); never a read of an earlier request (a suspension is seen by
 * the very next request).
 */
export async function beginSignIn(
  deps: CoreDeps,
  input: { email: string | undefined; flowId: string; read?: { held: KeysOfEmail } | undefined },
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON }> {
  const { email } = input;
  const held = email === undefined ? undefined : input.read !== undefined ? input.read.held : await keysOfEmail(deps, email);
  const keys = held?.keys ?? [];
  const found = {
    identityId: held?.identityId ?? null,
    allow: keys.length > 0 ? keys.map((c) => ({ id: c.credentialId, transports: c.transports })) : email === undefined ? [] : await decoysOutsideRead(deps, email),
  };
  const options = await buildAuthenticationOptions({ rpId: deps.config.rpId, allowCredentials: found.allow });
  await putChallenge(deps, options.challenge, 'signin', input.flowId, found.identityId, null);
  return { options };
}
