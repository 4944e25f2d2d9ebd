/** Starts registering a security key from a one-time enrolment link (NSIS 3.2.2). */
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { buildRegistrationOptions } from '../../ceremonies/index.js';
import type { CoreDeps } from '../deps.js';
import { putChallenge } from '../shared/challenges.js';
import { liveEnrolment } from './liveEnrolment.js';

export async function beginEnrolment(
  deps: CoreDeps,
  input: { token: string; flowId: string },
): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; holder: { name: string; email: string }; expiresAt: string }> {
  const { enrolment, identity } = await liveEnrolment(deps, input.token);
  const existing = (await deps.store.read((tx) => tx.credentials.listOfIdentity(identity.id))).filter((c) => c.state !== 'revoked' && c.state !== 'expired');
  const options = await buildRegistrationOptions({
    rpName: deps.config.rpName,
    rpId: deps.config.rpId,
    userId: identity.id,
    userName: identity.email,
    userDisplayName: identity.name,
    excludeCredentialIds: existing.map((c) => c.credentialId),
    attestation: deps.config.attestation.conveyance,
  });
  await putChallenge(deps, options.challenge, 'registration', input.flowId, identity.id, enrolment.id);
  return { options, holder: { name: identity.name, email: identity.email }, expiresAt: enrolment.expiresAt };
}
