/**
 * A holder adds another security key themselves (issue 16; NSIS 3.2.4 (Low) 1, same at
 * Substantial: a replacement or renewal "is based on a valid Electronic Identification Means" of
 * the same or higher level). The basis is the session's own key: it must be active, the session
 * must have been signed in at Substantial or higher within the step-up window (a fresh touch,
 * checked at the HTTP edge), and the new key is never rated above the level the session reached.
 * The new key starts `issued` and is activated like any other (NSIS 3.2.2): possession of it plus
 * the code that goes to the bound address by the second channel, in the transaction that
 * registers it.
 */
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { minLevel } from '../../assurance/levels.js';
import { buildRegistrationOptions, verifyRegistration } from '../../ceremonies/index.js';
import { addMinutes } from '../../clock.js';
import type { AssuranceLevel, Credential, Identity } from '../../domain/types.js';
import { CeremonyError, ForbiddenError, GatewayError, NotFoundError } from '../../errors.js';
import { issueCode } from '../../lifecycle/issueCode.js';
import { newIssuedCredential } from '../shared/newCredential.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent, refuse } from '../shared/audit.js';
import { putChallenge, takeChallenge } from '../shared/challenges.js';
import { detailOf, maskEmail } from '../shared/text.js';

/** Keys a person may hold that are neither revoked nor expired; beyond it, one is revoked first. */
export const MAX_USABLE_KEYS = 5;

/** The audit event of every refusal of this flow. */
const REFUSED = 'self-enrolment.refused';

/** The signed-in person and the key and level of their session. */
export interface OwnSession {
  identityId: string;
  sessionCredentialId: string;
  sessionAal: AssuranceLevel;
}

export class KeyLimitError extends GatewayError {
  constructor() {
    super('KEY_LIMIT_REACHED', 409, `You already have ${MAX_USABLE_KEYS} security keys that are not revoked; revoke one you no longer use first.`);
  }
}

const usable = (c: Credential): boolean => c.state !== 'revoked' && c.state !== 'expired';

/** Checks the basis (the session's key, the binding, the cap) on what one read saw; refuses audited. */
async function checkBasis(deps: CoreDeps, who: OwnSession): Promise<{ identity: Identity; keys: Credential[] }> {
  const { identity, keys } = await deps.store.read(async (tx) => ({ identity: await tx.identities.get(who.identityId), keys: await tx.credentials.listOfIdentity(who.identityId) }));
  if (!identity) throw new NotFoundError('Unknown identity.');
  if (identity.bindingState !== 'active') {
    await refuse(deps, REFUSED, identity.id, { reason: 'binding-ended' });
    throw new ForbiddenError('BINDING_ENDED', 'The identity is no longer bound to the organisation.');
  }
  const basis = keys.find((c) => c.id === who.sessionCredentialId);
  if (basis?.state !== 'active') {
    // NSIS 3.2.4 (Low) 1: only a valid means can be the basis of a new one.
    await refuse(deps, REFUSED, identity.id, { reason: 'session-key-not-active', clause: 'NSIS 3.2.4 (Low) 1' });
    throw new ForbiddenError('FORBIDDEN', 'Only a session signed in with an active security key can add another key.');
  }
  if (keys.filter(usable).length >= MAX_USABLE_KEYS) {
    await refuse(deps, REFUSED, identity.id, { reason: 'key-limit-reached', max: MAX_USABLE_KEYS });
    throw new KeyLimitError();
  }
  return { identity, keys };
}

export async function beginAddOwnKey(deps: CoreDeps, who: OwnSession, flowId: string): Promise<{ options: PublicKeyCredentialCreationOptionsJSON }> {
  const { identity, keys } = await checkBasis(deps, who);
  const options = await buildRegistrationOptions({
    rpName: deps.config.rpName,
    rpId: deps.config.rpId,
    userId: identity.id,
    userName: identity.email,
    userDisplayName: identity.name,
    // WebAuthn §5.4.3: the keys the person has already are not registered a second time.
    excludeCredentialIds: keys.filter(usable).map((c) => c.credentialId),
    attestation: deps.config.attestation.conveyance,
  });
  // No enrolment link: the challenge is bound to the person and this browser only, so it cannot
  // finish a link's registration (that needs the link's id) nor another person's.
  await putChallenge(deps, options.challenge, 'registration', flowId, identity.id, null);
  return { options };
}

export async function completeAddOwnKey(
  deps: CoreDeps,
  who: OwnSession,
  input: { flowId: string; label: string; response: RegistrationResponseJSON },
): Promise<{ credential: Credential; activation: { sentTo: string; expiresAt: string } }> {
  const challenge = await takeChallenge(deps, input.response.response.clientDataJSON, { ceremony: 'registration', flowId: input.flowId }, who.identityId);
  if (challenge.enrolmentId !== null || challenge.identityId !== who.identityId) {
    await refuse(deps, REFUSED, who.identityId, { reason: 'challenge-for-other-registration' });
    throw new CeremonyError('CHALLENGE_INVALID', 'This registration was started for another person or link. Start again.');
  }
  const { identity } = await checkBasis(deps, who);
  let key;
  try {
    key = await verifyRegistration(input.response, { challenge: challenge.challenge, origin: deps.config.origin, rpId: deps.config.rpId });
  } catch (err) {
    await refuse(deps, REFUSED, identity.id, { reason: 'registration-not-verified', detail: detailOf(err) });
    throw err;
  }
  const assessment = deps.assurance.assess(key);
  if (assessment.decision.refused) {
    await refuse(deps, REFUSED, identity.id, { reason: 'authenticator-refused', aaguid: key.aaguid, why: assessment.decision.reasons.join('; ') });
    throw new GatewayError('AUTHENTICATOR_REFUSED', 400, `This security key is not accepted by the organisation: ${assessment.decision.reasons.join('; ')}.`);
  }
  // NSIS 3.2.4 (Low) 1: the new key rests on the session's key, so it is never rated above the
  // level the session reached.
  const aal = minLevel(assessment.decision.level, who.sessionAal);
  const aalReasons = aal === assessment.decision.level ? assessment.decision.reasons : [...assessment.decision.reasons, `bound through a key signed in at ${who.sessionAal} (NSIS 3.2.4)`];
  const at = deps.clock.now();
  const codeExpiresAt = addMinutes(at, deps.config.activationCodeTtlMinutes).toISOString();
  const registered = key;
  const outcome = await deps.store.write(async (tx): Promise<Credential | { refused: string }> => {
    // The basis is checked again where it counts: a suspension of the session's key committed
    // since the read above refuses (a refusal returns, so its audit event is not rolled back).
    if ((await tx.credentials.get(who.sessionCredentialId))?.state !== 'active') return { refused: 'session-key-not-active' };
    if (await tx.credentials.byCredentialId(registered.credentialId)) return { refused: 'credential-already-registered' };
    const created = newIssuedCredential({ identityId: identity.id, key: registered, label: input.label, at, enrolmentId: null, assessment, aal, aalReasons });
    // The cap is counted and the key inserted in one step, serialised per holder.
    if (!(await tx.credentials.insertWithinCap(created, MAX_USABLE_KEYS))) return { refused: 'key-limit-reached' };
    const holder = { identityId: identity.id, role: 'holder' as const };
    const issued = await recordEvent(deps, tx, 'credential.issued', holder, created.id, {
      identityId: identity.id,
      selfService: true,
      boundWith: who.sessionCredentialId,
      aaguid: registered.aaguid,
      attestationFormat: registered.attestationFormat,
      attestationVerified: assessment.evidence.attestationVerified,
      backupEligible: registered.backupEligible,
      aal,
      model: assessment.model,
      certification: assessment.evidence.certification,
      clause: 'NSIS 3.2.4 (Low) 1, 3.2.2',
    });
    // Issue 17: the history row names the entry without asking its number now (on PostgreSQL both
    // are written by one statement right before COMMIT).
    await tx.credentials.addEventFor(issued, {
      credentialId: created.id,
      action: 'issue',
      fromState: null,
      toState: 'issued',
      actorId: identity.id,
      actorRole: 'holder',
      reason: 'registered',
      note: null,
      clause: 'NSIS 3.2.4',
      at: at.toISOString(),
    });
    // NSIS 3.2.2: activation as for any key: possession plus the code by the second channel.
    await issueCode(deps, tx, created, identity, codeExpiresAt, 'activate', holder);
    return created;
  });
  if ('refused' in outcome) {
    await refuse(deps, REFUSED, identity.id, { reason: outcome.refused });
    if (outcome.refused === 'key-limit-reached') throw new KeyLimitError();
    if (outcome.refused === 'credential-already-registered') throw new GatewayError('CONFLICT', 409, 'This security key is already registered.');
    throw new ForbiddenError('FORBIDDEN', 'Only a session signed in with an active security key can add another key.');
  }
  deps.kickOutbox();
  return { credential: outcome, activation: { sentTo: maskEmail(identity.email), expiresAt: codeExpiresAt } };
}
