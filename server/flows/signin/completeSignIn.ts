/**
 * Completes a sign-in (NSIS 3.3): at most ONE durable commit. The challenge is consumed in the
 * ephemeral store (single use across processes); the key, its holder and their organisation are
 * read once; the assertion is verified and the identity token (when an audience is asked for)
 * signed by the HSM before the write; the write only records: the counter compare-and-set (a
 * suspension committed meanwhile makes it fail), the session, `signin.succeeded` and
 * `token.issued`, and the end of the browser's previous session (read before the write; ended
 * only if still live). The write is one repository call, signIns.commit, which PostgreSQL runs
 * as ONE statement (issue 17: no lock on the audit chain held across a round trip).
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
import { sessionFor, signInSucceeded } from '../sessions/newSession.js';
import { auditInput, observeAfterCommit, refuse, type AuditData } from '../shared/audit.js';
import { expectedFor, takeChallenge } from '../shared/challenges.js';
import { detailOf } from '../shared/text.js';
import { expireIfDue } from '../keys/expireKeys.js';
import { previousToEnd } from '../sessions/endPrevious.js';
import type { SessionRecord } from '../../domain/sessions.js';
import { plainHash } from '../../security/oneTimeSecrets.js';

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
  // The browser's previous session, if live: this sign-in replaces it in its commit (read here,
  // outside the write: its person never changes, and the write ends it only if still live).
  const previous = await livePrevious(deps, input.previousSessionId);
  const used =
    !counterWentBackwards(key.signCount, newCounter) &&
    (await deps.store.write(
      async (tx) => {
        const now = deps.clock.now().toISOString();
        const succeeded = signInSucceeded(identity, record, 'signin');
        const entries = [auditInput(deps, succeeded.type, succeeded.actor, succeeded.subjectId, succeeded.data)];
        if (token) entries.push(auditInput(deps, 'token.issued', { identityId: identity.id, role: 'holder' }, key.id, tokenIssued(token)));
        // One statement on PostgreSQL: the compare-and-set on the counter read (a suspension or
        // another use committed meanwhile wins, and then nothing is written), the session, the
        // previous session's end and the audit entries (issue 17).
        const done = await tx.signIns.commit({
          keyId: key.id,
          expectedCount: key.signCount,
          newCount: newCounter,
          backupState: assertion.backedUp,
          at: now,
          session: record,
          entries,
          ...(previous ? { previous: previousToEnd(deps, previous) } : {}),
        });
        if (!done) return undefined;
        for (const e of done.entries) observeAfterCommit(deps, tx, e.type, e.data);
        return now;
      },
      { oneStatement: true },
    ));
  if (!used) {
    // The compare-and-set did not pass: why, in a write of its own (the refused one wrote nothing).
    const reason = await deps.store.write((tx) => whyNotUsed(deps, tx, key.id, newCounter));
    return refused(deps, key.id, { reason });
  }
  const credential: Credential = { ...key, signCount: newCounter, backupState: assertion.backedUp, lastUsedAt: used, updatedAt: used };
  return { sessionId, identity, credential, ...(token ? { token } : {}) };
}

/** The session the browser had, if it is still live (one statement). */
async function livePrevious(deps: CoreDeps, previousSessionId: string | undefined): Promise<SessionRecord | undefined> {
  if (previousSessionId === undefined) return undefined;
  const idHash = plainHash(previousSessionId);
  const s = await deps.store.read((tx) => tx.sessions.get(idHash), { oneStatement: true });
  return s && s.endedAt === null ? s : undefined;
}

/** The `token.issued` entry's data (NSIS 6 (Low) 1-3). */
function tokenIssued(token: { kid: string; claims: IdentityTokenClaims }): AuditData {
  const c = token.claims;
  return { jti: c.jti, kid: token.kid, aud: c.aud, sub: c.sub, loa: c.loa, exp: c.exp, clause: 'NSIS 6 (Low) 1-3' };
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
