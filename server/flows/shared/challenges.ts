/**
 * WebAuthn challenges in the ephemeral store (NSIS 3.3.1 (Low) 3): random, bound to the ceremony
 * and to the browser (the flow cookie), expiring within minutes, single use across processes.
 * Losing one costs a retry, so none of this waits for a durable commit.
 */
import { addSeconds } from '../../clock.js';
import { challengeOf } from '../../ceremonies/index.js';
import type { Ceremony, ChallengeRecord } from '../../domain/keys.js';
import { CeremonyError } from '../../errors.js';
import { hashesEqual, plainHash } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';
import { refuse } from './audit.js';

export const CHALLENGE_EXPIRED = 'The challenge has expired. Start again.';

export async function putChallenge(deps: CoreDeps, challenge: string, ceremony: Ceremony, flowId: string, identityId: string | null, enrolmentId: string | null): Promise<void> {
  const at = deps.clock.now();
  await deps.store.ephemeral.challenges.put({
    challenge,
    flowHash: plainHash(flowId),
    ceremony,
    identityId,
    enrolmentId,
    createdAt: at.toISOString(),
    // NSIS 3.3.1 (Low) 3: challenges expire within 2 minutes.
    expiresAt: addSeconds(at, deps.config.challengeTtlSeconds).toISOString(),
  });
}

/**
 * Consumes the challenge named in clientDataJSON exactly once, then checks that it belongs to
 * this ceremony and this browser flow and has not expired. Every refusal is audited (in its own
 * transaction) with its reason, and the challenge is used up whatever the outcome.
 */
export async function takeChallenge(deps: CoreDeps, clientDataJSON: string, check: { ceremony: Ceremony; flowId: string }, subjectId: string | null): Promise<ChallengeRecord> {
  const value = challengeOf(clientDataJSON);
  const refusal = `${check.ceremony === 'registration' ? 'enrolment' : check.ceremony}.refused`;
  if (!value) {
    await refuse(deps, refusal, subjectId, { reason: 'no-challenge' });
    throw new CeremonyError('CHALLENGE_INVALID', 'The response carries no challenge. Start again.');
  }
  const record = await deps.store.ephemeral.challenges.consume(value, deps.clock.now().toISOString());
  if (!record) {
    await refuse(deps, refusal, subjectId, { reason: 'challenge-unknown-or-used' });
    throw new CeremonyError('CHALLENGE_INVALID', 'This challenge is unknown or was already used. Start again.');
  }
  if (record.ceremony !== check.ceremony || !hashesEqual(record.flowHash, plainHash(check.flowId))) {
    await refuse(deps, refusal, subjectId, { reason: 'challenge-for-other-ceremony-or-browser' });
    throw new CeremonyError('CHALLENGE_INVALID', 'This challenge was issued for another ceremony or browser. Start again.');
  }
  if (record.expiresAt <= deps.clock.now().toISOString()) {
    await refuse(deps, refusal, subjectId, { reason: 'challenge-expired' });
    throw new CeremonyError('CHALLENGE_INVALID', CHALLENGE_EXPIRED);
  }
  return record;
}

/** What the WebAuthn verification expects of a response to `challenge`. */
export function expectedFor(deps: CoreDeps, challenge: ChallengeRecord): { challenge: string; origin: string; rpId: string } {
  return { challenge: challenge.challenge, origin: deps.config.origin, rpId: deps.config.rpId };
}
