/**
 * Resolves a session cookie (or the stored hash of a grant bound to a session): one read of the
 * session, its person and its key. A session past its idle or absolute lifetime, or whose key or
 * binding is no longer active, is ended. Nothing is cached: a suspension committed anywhere ends
 * the session on its very next request (NSIS 3.2.3 (Low) 1).
 */
import { addMinutes } from '../../clock.js';
import type { SessionRecord } from '../../domain/sessions.js';
import type { Credential, Identity } from '../../domain/types.js';
import { plainHash } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';

export interface SessionView {
  identity: Identity;
  session: SessionRecord;
  credential: Credential;
}

/** A session is touched at most this often (a durable write), not on every request. */
const TOUCH_EVERY_MS = 15_000;

export function resolveSession(deps: CoreDeps, sessionId: string): Promise<SessionView | undefined> {
  return resolveSessionByHash(deps, plainHash(sessionId));
}

export async function resolveSessionByHash(deps: CoreDeps, idHash: string): Promise<SessionView | undefined> {
  const found = await deps.store.read(async (tx) => {
    const session = await tx.sessions.get(idHash);
    if (!session || session.endedAt) return undefined;
    return { session, identity: await tx.identities.get(session.identityId), credential: await tx.credentials.get(session.credentialId) };
  });
  if (!found) return undefined;
  const { session, identity, credential } = found;
  const now = deps.clock.now();
  const idleLimit = addMinutes(new Date(session.lastSeenAt), deps.config.sessionIdleMinutes);
  let end: string | undefined;
  if (now >= idleLimit || now.toISOString() >= session.absoluteExpiresAt) end = now >= idleLimit ? 'idle-timeout' : 'absolute-timeout';
  else if (!identity || identity.bindingState !== 'active' || !credential || credential.state !== 'active') end = 'key-or-binding-not-active';
  if (end !== undefined) {
    const reason = end;
    await deps.store.write((tx) => tx.sessions.end(idHash, reason, now.toISOString()));
    return undefined;
  }
  if (!identity || !credential) return undefined;
  if (now.getTime() - new Date(session.lastSeenAt).getTime() > TOUCH_EVERY_MS) await deps.store.write((tx) => tx.sessions.touch(idHash, now.toISOString()));
  return { identity, session, credential };
}
