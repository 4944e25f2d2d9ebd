/**
 * Completes a sign-in (NSIS 3.3): at most ONE durable commit. The challenge is consumed in the
 * ephemeral store (single use across processes); the key, its holder and their organisation are
 * read once; the assertion is verified and the identity token (when an audience is asked for)
 * signed by the HSM before the write; the write only records: the counter compare-and-set (a
 * suspension committed meanwhile makes it fail), the session, `signin.succeeded` and
 * `token.issued`, and the end of the browser's previous session.
 *
 * Refusals are generic to the client; the exact reason goes to the audit log. A counter that
 * does not increase suspends the key on the issuer's own initiative (NSIS 3.2.3 (Low) 4).
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { backupEligibilityChange, counterWentBackwards, verifyAssertion } from '../../ceremonies/index.js';
import type { NewSession } from '../../domain/sessions.js';
import { SYSTEM_ACTOR, type Credential, type Identity, type Organisation } from '../../domain/types.js';
import { CeremonyError, GatewayError, ServiceUnavailableError, SignInFailedError } from '../../errors.js';
import { applyTransition } from '../../lifecycle/applyTransition.js';
import { identityTokenClaims, type IdentityTokenClaims } from '../../tokens/identityToken.js';
import type { WriteTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { openSession, sessionFor } from '../sessions/newSession.js';
import { recordEvent, refuse } from '../shared/audit.js';
import { expectedFor, takeChallenge } from '../shared/challenges.js';
import { detailOf } from '../shared/text.js';
import { expireIfDue } from '../keys/expireKeys.js';
import { auditPreviousEnded, endPreviousSession } from '../sessions/endPrevious.js';

export interface SignInInput {
  flowId: string;
  response: AuthenticationResponseJSON;
  /** The session this browser had: a new sign-in replaces it, in the same commit. */
  previousSessionId?: string | undefined;
  /** An identity token for this audience, signed before the commit and audited in it. */
  audience?: string | undefined;
}

export interface IssuedSession {
  sessionId: string;
  identity: Identity;
  credential: Credential;
  token?: { jws: string; kid: string; claims: IdentityTokenClaims };
}

type Outcome = IssuedSession | { refused: string };


export async function completeSignIn(deps: CoreDeps, input: SignInInput): Promise<IssuedSession> {
  const { response, audience } = input;
  if (audience !== undefined) checkAudience(deps, audience);
  let challenge;
  try {
    challenge = await takeChallenge(deps, response.response.clientDataJSON, { ceremony: 'signin', flowId: input.flowId }, null);
  } catch (err) {
    if (err instanceof CeremonyError) throw new SignInFailedError();
    throw err;
  }
  // The one read of this request: the key, its holder, their organisation (for a token).
  const read = await deps.store.read((tx) => tx.credentials.withHolder(response.id), { oneStatement: true });
  const found = { key: read?.credential, identity: read?.identity, organisation: read?.organisation };
  if (!found.key) return refused(deps, null, { reason: 'unknown-credential' });
  if (challenge.identityId !== null && challenge.identityId !== found.key.identityId) return refused(deps, found.key.id, { reason: 'key-of-another-identity' });
  const key = await expireIfDue(deps, found.key);
  let assertion;
  try {
    assertion = await verifyAssertion(response, expectedFor(deps, challenge), key);
  } catch (err) {
    return refused(deps, key.id, { reason: 'assertion-not-verified', detail: detailOf(err) });
  }
  const changed = backupEligibilityChange(key.backupEligible, assertion);
  // Issue 13, 6: a key registered device-bound (and rated for it) never signs in as a synced one.
  if (changed) return refused(deps, key.id, changed);
  const { identity } = found;
  if (key.state !== 'active') return refused(deps, key.id, { reason: `key-${key.state}` });
  if (!identity || identity.bindingState !== 'active') return refused(deps, key.id, { reason: 'binding-ended' });
  const at = deps.clock.now();
  const { sessionId, record } = sessionFor(deps, identity, key, assertion.userVerified, at);
  // Signed BEFORE the write (no HSM call inside a transaction); never leaves unless the write commits.
  const token = audience !== undefined ? await signedToken(deps, { audience, identity, organisation: found.organisation, session: record, at }) : undefined;
  const newCounter = assertion.newCounter;
  const outcome = await deps.store.write(async (tx): Promise<Outcome> => {
    const now = deps.clock.now().toISOString();
    // Compare-and-set on the counter read: a suspension or another use committed meanwhile wins.
    if (counterWentBackwards(key.signCount, newCounter) || !(await tx.credentials.recordUse(key.id, key.signCount, newCounter, assertion.backedUp, now))) {
      return { refused: await whyNotUsed(deps, tx, key.id, newCounter) };
    }
    // The browser's previous session ends before the first audit entry takes the chain's lock
    // (issue 17); its `session.ended` is still audited after `signin.succeeded`.
    const ended = input.previousSessionId === undefined ? undefined : await endPreviousSession(tx, input.previousSessionId, sessionId, now);
    await openSession(deps, tx, identity, record, 'signin');
    if (ended) await auditPreviousEnded(deps, tx, ended);
    if (token) {
      const c = token.claims;
      await recordEvent(deps, tx, 'token.issued', { identityId: identity.id, role: 'holder' }, key.id, {
        jti: c.jti,
        kid: token.kid,
        aud: c.aud,
        sub: c.sub,
        loa: c.loa,
        exp: c.exp,
        clause: 'NSIS 6 (Low) 1-3',
      });
    }
    const credential: Credential = { ...key, signCount: newCounter, backupState: assertion.backedUp, lastUsedAt: now, updatedAt: now };
    return { sessionId, identity, credential, ...(token ? { token } : {}) };
  });
  if ('refused' in outcome) return refused(deps, key.id, { reason: outcome.refused });
  return outcome;
}

/** Audits the refusal (its own transaction) and answers generically. */
async function refused(deps: CoreDeps, subjectId: string | null, data: Parameters<typeof refuse>[3]): Promise<never> {
  await refuse(deps, 'signin.refused', subjectId, data);
  deps.kickOutbox();
  throw new SignInFailedError();
}

/**
 * Inside the write, when the compare-and-set did not pass: why (read again, on this refusal path
 * only). A counter that did not increase suspends the key as a suspected clone, with its effects.
 */
async function whyNotUsed(deps: CoreDeps, tx: WriteTx, keyId: string, newCounter: number): Promise<string> {
  const current = await tx.credentials.get(keyId);
  if (!current || current.state !== 'active') return `key-${current?.state ?? 'unknown'}`;
  if (!counterWentBackwards(current.signCount, newCounter)) return 'concurrent-use';
  // NSIS 3.2.3 (Low) 4: the issuer acts on its own initiative on suspected compromise.
  await applyTransition(deps, tx, { actor: SYSTEM_ACTOR, key: current, action: 'suspend', reason: 'suspected-clone', note: `counter ${newCounter} <= ${current.signCount}` });
  return 'counter-not-increasing';
}

/** NSIS 6 (Low) 1-3: the identity token of the session about to open, signed by the HSM's active key. */
async function signedToken(
  deps: CoreDeps,
  t: { audience: string; identity: Identity; organisation: Organisation | undefined; session: Pick<NewSession, 'aal' | 'amr'>; at: Date },
): Promise<{ jws: string; kid: string; claims: IdentityTokenClaims }> {
  if (!t.organisation) throw new Error(`identity ${t.identity.id} has no organisation`);
  const sign = deps.signToken;
  if (!sign) throw new ServiceUnavailableError('Token issuance needs the HSM, which is not configured.', 30);
  const claims = identityTokenClaims({
    issuer: deps.config.origin,
    audience: t.audience,
    identity: t.identity,
    organisation: t.organisation,
    authTime: t.at,
    aal: t.session.aal,
    amr: t.session.amr,
    fal: deps.config.federationLevel,
    now: t.at,
    ttlSeconds: deps.config.tokenTtlSeconds,
  });
  const { jws, kid } = await sign({ ...claims });
  return { jws, kid, claims };
}

/** Refused before anything is consumed: no HSM to sign with, or an audience not configured. */
function checkAudience(deps: CoreDeps, audience: string): void {
  if (!deps.signToken) throw new ServiceUnavailableError('Token issuance needs the HSM, which is not configured.', 30);
  if (!deps.config.tokenAudiences.includes(audience)) {
    throw new GatewayError('AUDIENCE_NOT_ALLOWED', 400, `Tokens are not issued for the audience "${audience.slice(0, 200)}".`);
  }
}
