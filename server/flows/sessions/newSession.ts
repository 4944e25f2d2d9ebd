/**
 * A fresh session at every sign-in (NSIS 6 (Low) 6: no fixation), inside the transaction that
 * completes the ceremony, with its `signin.succeeded` event. Only the id's hash is stored.
 */
import { amrFor, authenticatorLevel } from '../../assurance/levels.js';
import { addMinutes } from '../../clock.js';
import type { NewSession } from '../../domain/sessions.js';
import type { Actor, Credential, Identity } from '../../domain/types.js';
import type { WriteTx } from '../../ports/store.js';
import { plainHash, randomToken } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent, type AuditData } from '../shared/audit.js';

/** The session a sign-in will open, decided before the write (its id, level and methods). */
export function sessionFor(deps: CoreDeps, identity: Identity, key: Credential, userVerified: boolean, at: Date): { sessionId: string; record: NewSession } {
  const sessionId = randomToken(32);
  const aal = authenticatorLevel({ userVerified, backupEligible: key.backupEligible, keyLevel: key.aal });
  const amr = amrFor({ userVerified });
  return {
    sessionId,
    record: {
      idHash: plainHash(sessionId),
      identityId: identity.id,
      credentialId: key.id,
      aal,
      amr,
      sid: randomToken(16),
      createdAt: at.toISOString(),
      lastSeenAt: at.toISOString(),
      absoluteExpiresAt: addMinutes(at, deps.config.sessionAbsoluteMinutes).toISOString(),
    },
  };
}

/** Inside the completing transaction: stores the session and records the sign-in. */
export async function openSession(deps: CoreDeps, tx: WriteTx, identity: Identity, record: NewSession, via: 'signin' | 'activation'): Promise<void> {
  await tx.sessions.insert(record);
  const e = signInSucceeded(identity, record, via);
  await recordEvent(deps, tx, e.type, e.actor, e.subjectId, e.data);
}

/** The `signin.succeeded` event of a session opened (one definition for both ways of writing it). */
export function signInSucceeded(identity: Identity, record: NewSession, via: 'signin' | 'activation'): { type: 'signin.succeeded'; actor: Actor; subjectId: string; data: AuditData } {
  return {
    type: 'signin.succeeded',
    actor: { identityId: identity.id, role: 'holder' },
    subjectId: record.credentialId,
    data: { identityId: identity.id, via, aal: record.aal, amr: record.amr, session: record.idHash.slice(0, 16) },
  };
}
