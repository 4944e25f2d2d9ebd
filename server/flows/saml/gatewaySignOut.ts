/**
 * Signing out at the gateway's own pages (`POST /api/signout`) when the session has SAML
 * participants (issue 15: "signing out at the gateway sends LogoutRequests to the SAML SPs of the
 * session"; saml-profiles 4.4; NSIS 6 (Low) 5). The API ends the session at once (and its OpenID
 * relying parties are told by back channel, as before); the SAML SPs can only be told by the front
 * channel, so the API leaves a one-time handle (a pending row, five minutes) naming the ended
 * session and answers where the browser must go next: `GET /saml/logout?handle=…`, which consumes
 * the handle and runs the same front-channel chain as a sign-out at `/saml/logout`.
 */
import { z } from 'zod';
import { randomToken } from '../../security/oneTimeSecrets.js';
import { SYSTEM_ACTOR } from '../../domain/types.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';

const HANDLE_TTL_MS = 5 * 60_000;
const handleSchema = z.object({ kind: z.literal('gateway-logout'), sessionHash: z.string() }).strict();
const HANDLE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** Where the browser must go after the session `sessionHash` ended, when it had SAML participants. */
export async function pendingGatewayLogout(deps: CoreDeps, sessionHash: string): Promise<string | undefined> {
  const participants = await deps.store.read((tx) => tx.saml.participantsOfSession(sessionHash));
  const first = participants[0];
  if (!first) return undefined;
  const handle = randomToken(24);
  const now = deps.clock.now();
  await deps.store.write((tx) =>
    tx.saml.insertRequest({
      id: handle,
      // The pending row names a registered SP (the table's reference); the handle serves the whole session.
      entityId: first.entityId,
      params: JSON.stringify({ kind: 'gateway-logout', sessionHash }),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + HANDLE_TTL_MS).toISOString(),
    }),
  );
  return `/saml/logout?handle=${handle}`;
}

/**
 * The ended session a handle names (consumed: once only), or undefined when it is unknown, used,
 * expired or not a gateway sign-out's: that refusal is audited (`saml.gateway-logout.refused`).
 */
export async function consumeGatewayLogout(deps: CoreDeps, handle: string): Promise<string | undefined> {
  const at = deps.clock.now().toISOString();
  return deps.store.write(async (tx) => {
    const row = HANDLE_PATTERN.test(handle) ? await tx.saml.consumeRequest(handle, at) : undefined;
    const parsed = row ? handleSchema.safeParse(parseJson(row.params)) : undefined;
    if (parsed?.success) return parsed.data.sessionHash;
    const reason = !HANDLE_PATTERN.test(handle) ? 'malformed-handle' : !row ? 'unknown-or-used-handle' : 'not-a-gateway-logout';
    // The handle itself is a one-time secret: never in the log.
    await recordEvent(deps, tx, 'saml.gateway-logout.refused', SYSTEM_ACTOR, null, { reason, clause: 'NSIS 6 (Low) 5' });
    return undefined;
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
