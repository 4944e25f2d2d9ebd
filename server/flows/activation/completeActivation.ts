/**
 * Activates an issued key, or reactivates a suspended one, when the holder proves possession
 * (a user-verified assertion) AND presents the second-channel code (NSIS 3.2.2, 3.2.3 (Low) 3):
 * both are evidence the lifecycle table demands for these rows. Each code attempt is counted in
 * the transaction that compares it, before comparing (issue 13, 3). The key, its code and its
 * enrolment are read once before the write.
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { backupEligibilityChange, counterWentBackwards, verifyAssertion } from '../../ceremonies/index.js';
import { SYSTEM_ACTOR, type Actor, type Credential, type Identity } from '../../domain/types.js';
import { ActivationError, CeremonyError, ForbiddenError, SegregationError } from '../../errors.js';
import { applyTransition, keyIn } from '../../lifecycle/applyTransition.js';
import { decideTransition, type LifecycleAction } from '../../lifecycle/index.js';
import { formatCode } from '../../lifecycle/mails.js';
import type { WriteTx } from '../../ports/store.js';
import { hashesEqual, keyedHash, normaliseCode } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';
import type { IssuedSession } from '../signin/completeSignIn.js';
import { openSession, sessionFor } from '../sessions/newSession.js';
import { recordEvent, refuse } from '../shared/audit.js';
import { expectedFor, takeChallenge } from '../shared/challenges.js';
import { detailOf } from '../shared/text.js';
import { endPrevious } from '../sessions/endPrevious.js';

/** NSIS 3.2.2: codes lock after this many wrong attempts. */
export const MAX_CODE_ATTEMPTS = 5;

export { formatCode };

type Refusal = { refused: 'wrong-code'; attempts: number; locked: boolean } | { refused: 'locked' | 'used' | 'expired' | 'counter-not-increasing' };

export interface ActivationInput {
  code: string;
  flowId: string;
  response: AuthenticationResponseJSON;
  /** The person signed in in this browser, if any (segregation of duties: not the link's issuer). */
  browserIdentityId?: string | null;
  /** The session this browser had: the new one replaces it, in the same commit. */
  previousSessionId?: string | undefined;
}

export async function completeActivation(deps: CoreDeps, input: ActivationInput): Promise<IssuedSession> {
  const { response } = input;
  const browserIdentityId = input.browserIdentityId ?? null;
  const challenge = await takeChallenge(deps, response.response.clientDataJSON, { ceremony: 'activation', flowId: input.flowId }, null);
  const found = await deps.store.read(async (tx) => {
    const key = await tx.credentials.byCredentialId(response.id);
    if (!key) return undefined;
    return {
      key,
      enrolment: key.enrolmentId ? await tx.enrolments.get(key.enrolmentId) : undefined,
      code: await tx.codes.latestOpen(key.id),
      identity: await tx.identities.get(key.identityId),
    };
  });
  const key = found?.key;
  if (!found || !key || challenge.identityId === null || key.identityId !== challenge.identityId) {
    await refuse(deps, 'activation.refused', key?.id ?? null, { reason: key ? 'key-of-another-identity' : 'unknown-credential' });
    throw new ActivationError('ACTIVATION_NOT_PENDING', 'This security key is not waiting for activation.');
  }
  const { enrolment, code: codeRecord } = found;
  if (browserIdentityId !== null && browserIdentityId !== key.identityId && enrolment?.createdBy === browserIdentityId) {
    // Segregation of duties: whoever issued the enrolment cannot activate it for the holder.
    await refuse(deps, 'activation.refused', key.id, { reason: 'activated-by-enrolment-issuer', by: browserIdentityId });
    throw new SegregationError('The person who issued this enrolment cannot activate it on the holder’s behalf.');
  }
  const action: LifecycleAction = key.state === 'issued' ? 'activate' : 'reactivate';
  if ((key.state !== 'issued' && key.state !== 'suspended') || !codeRecord) {
    await refuse(deps, 'activation.refused', key.id, { reason: 'not-pending', state: key.state });
    throw new ActivationError('ACTIVATION_NOT_PENDING', 'This security key is not waiting for activation.');
  }
  // The table's guards first, so a key suspected cloned is never offered reactivation.
  decideTransition(key, { action, role: 'holder', reason: action === 'activate' ? 'activated' : 'found', evidence: ['possession', 'second-channel-code'] });
  if (codeRecord.lockedAt) {
    await refuse(deps, 'activation.refused', key.id, { reason: 'code-locked', codeId: codeRecord.id });
    throw new ActivationError('ACTIVATION_CODE_LOCKED', 'Too many wrong codes: this code is locked. Ask the helpdesk for a new one.');
  }
  if (codeRecord.expiresAt <= deps.clock.now().toISOString()) {
    await refuse(deps, 'activation.refused', key.id, { reason: 'code-expired', codeId: codeRecord.id });
    throw new ActivationError('ACTIVATION_CODE_INVALID', 'This activation code has expired. Ask the helpdesk for a new one.');
  }
  let assertion;
  try {
    assertion = await verifyAssertion(response, expectedFor(deps, challenge), key);
  } catch (err) {
    await refuse(deps, 'activation.refused', key.id, { reason: 'possession-not-proven', detail: detailOf(err) });
    throw err;
  }
  const changed = backupEligibilityChange(key.backupEligible, assertion);
  if (changed) {
    // Issue 13, 6: not the key registered (or now synced); refused before a code attempt is spent.
    await refuse(deps, 'activation.refused', key.id, changed);
    throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.');
  }
  const presented = keyedHash(deps.secretKey, `activation:${codeRecord.id}`, normaliseCode(input.code));
  const holderActor: Actor = { identityId: key.identityId, role: 'holder' };
  const verified = assertion;
  const outcome = await deps.store.write(async (tx): Promise<IssuedSession | Refusal> => {
    const at = deps.clock.now().toISOString();
    // Issue 13, 3: the attempt is counted BEFORE the code is compared, in the transaction that
    // decides it, so parallel guesses cannot all read "attempts left" (at most 5 are evaluated).
    // A refusal returns (not throws) so that the count and its audit event commit.
    const attempt = await tx.codes.countAttempt(codeRecord.id, MAX_CODE_ATTEMPTS, at);
    if (!attempt.counted) {
      const reason = attempt.why === 'locked' ? 'code-locked' : attempt.why === 'used' ? 'code-already-used' : 'code-expired';
      await recordEvent(deps, tx, 'activation.refused', SYSTEM_ACTOR, key.id, { reason, codeId: codeRecord.id });
      return { refused: attempt.why };
    }
    if (!hashesEqual(presented, attempt.codeHash)) {
      const locked = attempt.attempts >= MAX_CODE_ATTEMPTS;
      if (locked) await tx.codes.lock(codeRecord.id, at);
      await recordEvent(deps, tx, 'activation.refused', holderActor, key.id, { reason: 'wrong-code', codeId: codeRecord.id, attempts: attempt.attempts, locked });
      return { refused: 'wrong-code', attempts: attempt.attempts, locked };
    }
    const current = await keyIn(tx, key.id);
    if (counterWentBackwards(current.signCount, verified.newCounter)) {
      // A copy of the key presented itself before activation: it was duplicated in transport
      // (NSIS 3.2.2 (High) 3), so it is revoked on the issuer's own initiative (3.2.3 (Low) 4).
      await recordEvent(deps, tx, 'activation.refused', SYSTEM_ACTOR, key.id, { reason: 'counter-not-increasing', stored: current.signCount, presented: verified.newCounter });
      await applyTransition(deps, tx, { actor: SYSTEM_ACTOR, key: current, action: 'revoke', reason: 'suspected-clone', note: `counter ${verified.newCounter} <= ${current.signCount} during activation` });
      return { refused: 'counter-not-increasing' };
    }
    if (!(await tx.codes.consume(codeRecord.id, at))) {
      await recordEvent(deps, tx, 'activation.refused', holderActor, key.id, { reason: 'code-already-used', codeId: codeRecord.id });
      return { refused: 'used' };
    }
    await tx.credentials.setSignCount(key.id, verified.newCounter, verified.backedUp, at);
    const counted: Credential = { ...current, signCount: verified.newCounter, backupState: verified.backedUp, lastUsedAt: at, updatedAt: at };
    const updated = await applyTransition(deps, tx, { actor: holderActor, key: counted, action, reason: action === 'activate' ? 'activated' : 'found', note: null, evidence: ['possession', 'second-channel-code'] });
    const identity = await tx.identities.get(key.identityId);
    if (!identity || identity.bindingState !== 'active') throw new ForbiddenError('BINDING_ENDED', 'Your binding to the organisation has ended.');
    await retireReplaced(deps, tx, action, enrolment?.replacesCredentialId ?? null, updated);
    return openActivationSession(deps, tx, identity, updated, verified.userVerified, input.previousSessionId);
  });
  deps.kickOutbox();
  if ('refused' in outcome) throw refusalError(outcome);
  return outcome;
}

/** NSIS 3.2.4: a replacement key, once active, retires the key it replaces. */
async function retireReplaced(deps: CoreDeps, tx: WriteTx, action: LifecycleAction, replacesId: string | null, updated: Credential): Promise<void> {
  if (action !== 'activate' || replacesId === null) return;
  const replaced = await tx.credentials.get(replacesId);
  if (replaced && replaced.state !== 'revoked' && replaced.state !== 'expired') {
    await applyTransition(deps, tx, { actor: SYSTEM_ACTOR, key: replaced, action: 'revoke', reason: 'replaced', note: `replaced by ${updated.id}` });
  }
}

async function openActivationSession(deps: CoreDeps, tx: WriteTx, identity: Identity, key: Credential, userVerified: boolean, previousSessionId: string | undefined): Promise<IssuedSession> {
  const { sessionId, record } = sessionFor(deps, identity, key, userVerified, deps.clock.now());
  await openSession(deps, tx, identity, record, 'activation');
  if (previousSessionId !== undefined) await endPrevious(deps, tx, previousSessionId, sessionId, record.createdAt);
  return { sessionId, identity, credential: key };
}

function refusalError(r: Refusal): Error {
  switch (r.refused) {
    case 'wrong-code':
      if (r.locked) return new ActivationError('ACTIVATION_CODE_LOCKED', 'Too many wrong codes: this code is now locked. Ask the helpdesk for a new one.');
      return new ActivationError('ACTIVATION_CODE_INVALID', `The activation code is not correct. ${MAX_CODE_ATTEMPTS - r.attempts} attempt(s) left.`);
    case 'locked':
      return new ActivationError('ACTIVATION_CODE_LOCKED', 'Too many wrong codes: this code is locked. Ask the helpdesk for a new one.');
    case 'expired':
      return new ActivationError('ACTIVATION_CODE_INVALID', 'This activation code has expired. Ask the helpdesk for a new one.');
    case 'used':
      return new ActivationError('ACTIVATION_CODE_INVALID', 'This activation code has already been used or replaced.');
    case 'counter-not-increasing':
      return new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.');
  }
}
