/** Signing out: this session, or (single logout, NSIS 6 (Low) 5) every session of the person. */
import type { SessionRecord } from '../../domain/sessions.js';
import { plainHash } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';

/** Ends one session; audited only when it was live. */
export async function signOut(deps: CoreDeps, sessionId: string, reason = 'signed-out'): Promise<void> {
  const idHash = plainHash(sessionId);
  await deps.store.write(async (tx) => {
    const session = await tx.sessions.get(idHash);
    if (!session) return;
    if (await tx.sessions.end(idHash, reason, deps.clock.now().toISOString())) {
      await recordEvent(deps, tx, 'session.ended', { identityId: session.identityId, role: 'holder' }, session.identityId, { reason });
    }
  });
}

/** Ends every live session of a person; returns the sessions it ended (their relying parties are to be told). */
export function endAllSessions(deps: CoreDeps, identityId: string, reason: string): Promise<SessionRecord[]> {
  return deps.store.write(async (tx) => {
    const ended = await tx.sessions.endOfIdentity(identityId, reason, deps.clock.now().toISOString());
    await recordEvent(deps, tx, 'session.ended', { identityId, role: 'holder' }, identityId, { reason, sessions: ended.length, clause: 'NSIS 6 (Low) 5' });
    return ended;
  });
}
