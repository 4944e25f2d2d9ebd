/**
 * Finishes a registration through an enrolment link (NSIS 3.2.1, 3.2.2): the key starts `issued`,
 * rated by the assurance policy from its evidence, and its activation code goes through the
 * second channel (outbox) in the transaction that consumes the link. Failed registrations are
 * counted against the link, which locks at MAX_ENROLMENT_FAILURES.
 */
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { verifyRegistration } from '../../ceremonies/index.js';
import { addMinutes } from '../../clock.js';
import { SYSTEM_ACTOR, type Credential } from '../../domain/types.js';
import { CeremonyError, EnrolmentError, EnrolmentLockedError, GatewayError, SegregationError } from '../../errors.js';
import { adoptPageLanguageIn, type PageLanguageChoice } from '../identities/setLanguage.js';
import { issueCode } from '../../lifecycle/issueCode.js';
import { newIssuedCredential } from '../shared/newCredential.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent, refuse } from '../shared/audit.js';
import { CHALLENGE_EXPIRED, takeChallenge } from '../shared/challenges.js';
import { detailOf, maskEmail } from '../shared/text.js';
import { liveEnrolment } from './liveEnrolment.js';

/** NSIS 3.2.2: an enrolment link locks after this many failed registrations through it. */
export const MAX_ENROLMENT_FAILURES = 5;

export async function completeEnrolment(
  deps: CoreDeps,
  /** `page`: the language of the enrolment page (issue 16), adopted as the person's (setLanguage.ts). */
  input: { token: string; flowId: string; label: string; response: RegistrationResponseJSON; page?: PageLanguageChoice },
): Promise<{ credential: Credential; activation: { sentTo: string; expiresAt: string } }> {
  const { enrolment, identity, addressSetUpByIssuerAlone } = await liveEnrolment(deps, input.token);
  const enrolmentId = enrolment.id;
  if (addressSetUpByIssuerAlone) {
    // NSIS 3.2.2 (High) 3: no activation code to an address the link's issuer set up alone.
    await refuse(deps, 'enrolment.refused', identity.id, { enrolmentId, reason: 'address-set-up-alone-by-issuer', by: enrolment.createdBy });
    throw new SegregationError('The person who issued this link changed the email address alone; no activation code is sent there. Ask another administrator for a new link.');
  }
  let challenge;
  try {
    challenge = await takeChallenge(deps, input.response.response.clientDataJSON, { ceremony: 'registration', flowId: input.flowId }, identity.id);
  } catch (err) {
    throw await countEnrolmentFailure(deps, enrolmentId, identity.id, err);
  }
  if (challenge.enrolmentId !== enrolmentId) {
    await refuse(deps, 'enrolment.refused', identity.id, { reason: 'challenge-for-other-enrolment' });
    throw await countEnrolmentFailure(deps, enrolmentId, identity.id, new CeremonyError('CHALLENGE_INVALID', 'This registration was started for another enrolment. Start again.'));
  }
  let key;
  try {
    key = await verifyRegistration(input.response, { challenge: challenge.challenge, origin: deps.config.origin, rpId: deps.config.rpId });
  } catch (err) {
    await refuse(deps, 'enrolment.refused', identity.id, { reason: 'registration-not-verified', detail: detailOf(err) });
    throw await countEnrolmentFailure(deps, enrolmentId, identity.id, err);
  }
  const credentialId = key.credentialId;
  // One statement: no BEGIN/COMMIT around it (issue 17).
  if (await deps.store.read((tx) => tx.credentials.byCredentialId(credentialId), { oneStatement: true })) {
    // WebAuthn §7.1: a credential id registered already (a real authenticator makes fresh ones).
    await refuse(deps, 'enrolment.refused', identity.id, { reason: 'credential-already-registered' });
    throw await countEnrolmentFailure(deps, enrolmentId, identity.id, new GatewayError('CONFLICT', 409, 'This security key is already registered.'));
  }
  // NSIS 3.2.1: the level this key can reach, decided from its evidence before it is issued.
  const assessment = deps.assurance.assess(key);
  if (assessment.decision.refused) {
    await refuse(deps, 'enrolment.refused', identity.id, { reason: 'authenticator-refused', aaguid: key.aaguid, why: assessment.decision.reasons.join('; ') });
    throw new GatewayError('AUTHENTICATOR_REFUSED', 400, `This security key is not accepted by the organisation: ${assessment.decision.reasons.join('; ')}.`);
  }
  const at = deps.clock.now();
  const codeExpiresAt = addMinutes(at, deps.config.activationCodeTtlMinutes).toISOString();
  const registered = key;
  const outcome = await deps.store.write(async (tx): Promise<Credential | { refused: 'already-used' | 'credential-already-registered' }> => {
    // CONVENTIONS 4: single use. A refusal returns (not throws) so that its audit event, made
    // below in a transaction of its own, is not rolled back with this one. Both checks come
    // before any write: a refusal must leave the link as it was.
    if (await tx.credentials.byCredentialId(registered.credentialId)) return { refused: 'credential-already-registered' };
    if (!(await tx.enrolments.consume(enrolmentId, at.toISOString()))) return { refused: 'already-used' };
    const created = newIssuedCredential({ identityId: identity.id, key: registered, label: input.label, at, enrolmentId, assessment, aal: assessment.decision.level, aalReasons: assessment.decision.reasons });
    const id = created.id;
    await tx.credentials.insert(created);
    const holder = { identityId: identity.id, role: 'holder' as const };
    const issued = await recordEvent(deps, tx, 'credential.issued', holder, id, {
      identityId: identity.id,
      enrolmentId,
      aaguid: registered.aaguid,
      attestationFormat: registered.attestationFormat,
      attestationVerified: assessment.evidence.attestationVerified,
      backupEligible: registered.backupEligible,
      aal: assessment.decision.level,
      model: assessment.model,
      certification: assessment.evidence.certification,
      clause: 'NSIS 3.2.1, 3.2.2',
    });
    // Issue 17: the history row names the entry without asking its number now (on PostgreSQL both
    // are written by one statement right before COMMIT).
    await tx.credentials.addEventFor(issued, {
      credentialId: id,
      action: 'issue',
      fromState: null,
      toState: 'issued',
      actorId: identity.id,
      actorRole: 'holder',
      reason: 'registered',
      note: null,
      clause: 'NSIS 3.2.2',
      at: at.toISOString(),
    });
    // Issue 16: the activation code's mail is in the language of the page the person enrolled on.
    await issueCode(deps, tx, created, await adoptPageLanguageIn(deps, tx, identity, input.page), codeExpiresAt, 'activate', holder);
    return created;
  });
  if ('refused' in outcome) {
    // A race lost to a concurrent use of the same link or key: refused and audited.
    await refuse(deps, 'enrolment.refused', identity.id, { enrolmentId, reason: outcome.refused });
    if (outcome.refused === 'already-used') throw new EnrolmentError();
    throw new GatewayError('CONFLICT', 409, 'This security key is already registered.');
  }
  deps.kickOutbox();
  return { credential: outcome, activation: { sentTo: maskEmail(identity.email), expiresAt: codeExpiresAt } };
}

/**
 * NSIS 3.2.2: a failed registration through a live link (a challenge that is not this link's or
 * this browser's, or a response that does not verify) is counted; at MAX_ENROLMENT_FAILURES the
 * link locks, with its own audit event, and only a new link from an administrator helps. An
 * expired challenge (a slow holder) and a key the policy refuses are not tampering and are not
 * counted. Returns the error to throw.
 */
async function countEnrolmentFailure(deps: CoreDeps, enrolmentId: string, identityId: string, err: unknown): Promise<unknown> {
  if (err instanceof CeremonyError && err.detail === CHALLENGE_EXPIRED) return err;
  const locked = await deps.store.write(async (tx) => {
    const counted = await tx.enrolments.recordFailedAttempt(enrolmentId, MAX_ENROLMENT_FAILURES, deps.clock.now().toISOString());
    if (!counted?.locked) return false;
    await recordEvent(deps, tx, 'enrolment.locked', SYSTEM_ACTOR, identityId, { enrolmentId, attempts: counted.attempts, clause: 'NSIS 3.2.2' });
    return true;
  });
  if (locked) deps.log.warn({ event: 'enrolment.locked', subjectId: identityId }, 'enrolment link locked after failed registrations');
  return locked ? new EnrolmentLockedError() : err;
}
