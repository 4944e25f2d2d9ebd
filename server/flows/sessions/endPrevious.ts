/**
 * A new sign-in replaces the browser's previous session: the old one ends, in the same commit.
 * Two halves, so that a sign-in can end the old session before its first audit entry takes the
 * chain's lock (issue 17: less held under it) and still audit `session.ended` after
 * `signin.succeeded`, as it always did.
 */
import type { AuditInput } from '../../domain/audit.js';
import type { SessionRecord } from '../../domain/sessions.js';
import type { WriteTx } from '../../ports/store.js';
import { plainHash } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';
import { auditInput, recordEvent, type AuditData } from '../shared/audit.js';
import type { Actor } from '../../domain/types.js';

const REASON = 'replaced-by-new-sign-in';

/** Ends the previous session if it is still live (one guarded statement); the session it ended. */
export function endPreviousSession(tx: WriteTx, previousSessionId: string, sessionId: string, at: string): Promise<SessionRecord | undefined> {
  if (previousSessionId === sessionId) return Promise.resolve(undefined);
  return tx.sessions.endOne(plainHash(previousSessionId), REASON, at);
}

/** The `session.ended` event of a previous session a sign-in replaced (one definition for both ways of writing it). */
function previousEnded(identityId: string): { type: 'session.ended'; actor: Actor; subjectId: string; data: AuditData } {
  return { type: 'session.ended', actor: { identityId, role: 'holder' }, subjectId: identityId, data: { reason: REASON } };
}

/** The audit entry of a session endPreviousSession ended. */
export async function auditPreviousEnded(deps: CoreDeps, tx: WriteTx, ended: SessionRecord): Promise<void> {
  const e = previousEnded(ended.identityId);
  await recordEvent(deps, tx, e.type, e.actor, e.subjectId, e.data);
}

/**
 * For a write that ends the previous session itself (signIns.commit, issue 17): the session to
 * end if it is still live, with its `session.ended` entry (the same as auditPreviousEnded's).
 */
export function previousToEnd(deps: CoreDeps, live: SessionRecord): { idHash: string; identityId: string; reason: string; entry: AuditInput } {
  const e = previousEnded(live.identityId);
  return { idHash: live.idHash, identityId: live.identityId, reason: REASON, entry: auditInput(deps, e.type, e.actor, e.subjectId, e.data) };
}

export async function endPrevious(deps: CoreDeps, tx: WriteTx, previousSessionId: string, sessionId: string, at: string): Promise<void> {
  const ended = await endPreviousSession(tx, previousSessionId, sessionId, at);
  if (ended) await auditPreviousEnded(deps, tx, ended);
}
