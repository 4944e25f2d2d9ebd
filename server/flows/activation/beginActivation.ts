/**
 * The options of an activation or reactivation (NSIS 3.2.2, 3.2.3 (Low) 3): the address's keys
 * waiting for a code. With nothing pending it still lists one id that is among the address's
 * sign-in ids (a real person's newest key, else the first decoy), so the answer tells no one
 * apart (issue 13, 8).
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { buildAuthenticationOptions } from '../../ceremonies/index.js';
import type { CoreDeps } from '../deps.js';
import { putChallenge } from '../shared/challenges.js';
import { decoysFor } from '../shared/decoys.js';

export async function beginActivation(deps: CoreDeps, input: { email: string; flowId: string }): Promise<{ options: PublicKeyCredentialRequestOptionsJSON }> {
  const { email } = input;
  const found = await deps.store.read(async (tx) => {
    const identity = await tx.identities.findActiveByEmail(email);
    const keys = identity ? await tx.credentials.listOfIdentity(identity.id) : [];
    const pending = [];
    for (const c of keys) if ((c.state === 'issued' || c.state === 'suspended') && (await tx.codes.latestOpen(c.id))) pending.push(c);
    const newest = keys[keys.length - 1];
    const fallback = newest ? { id: newest.credentialId, transports: newest.transports } : (await decoysFor(deps, tx, email))[0];
    const allow = pending.length > 0 ? pending.map((c) => ({ id: c.credentialId, transports: c.transports })) : fallback ? [fallback] : [];
    return { identityId: identity?.id ?? null, allow };
  });
  const options = await buildAuthenticationOptions({ rpId: deps.config.rpId, allowCredentials: found.allow });
  await putChallenge(deps, options.challenge, 'activation', input.flowId, found.identityId, null);
  return { options };
}
