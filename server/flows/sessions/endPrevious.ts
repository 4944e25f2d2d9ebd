/** A new sign-in replaces the browser's previous session: the old one ends, in the same commit. */
import type { WriteTx } from '../../ports/store.js';
import { plainHash } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';

export async function endPrevious(deps: CoreDeps, tx: WriteTx, previousSessionId: string, sessionId: string, at: string): Promise<void> {
  if (previousSessionId === sessionId) return;
  const idHash = plainHash(previousSessionId);
  const previous = await tx.sessions.get(idHash);
  if (!previous) return;
  const reason = 'replaced-by-new-sign-in';
  if (await tx.sessions.end(idHash, reason, at)) {
    await recordEvent(deps, tx, 'session.ended', { identityId: previous.identityId, role: 'holder' }, previous.identityId, { reason });
  }
}
