/**
 * OpenID Connect Back-Channel Logout 1.0: a logout token, signed by the HSM key, to each relying
 * party the ended sessions were used with (their access tokens die with the sessions). Delivery
 * is attempted once with a short timeout and audited; outside development mode only to public
 * addresses, checked as the connection is made (issue 13, 9).
 */
import { randomUUID } from 'node:crypto';
import type { SessionRecord } from '../../domain/sessions.js';
import { postForm } from '../../net/outboundTarget.js';
import { endAllSessions } from '../sessions/signOut.js';
import { auditOidc, type OidcDeps } from './oidcDeps.js';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export async function backchannelLogout(deps: OidcDeps, sessions: readonly SessionRecord[]): Promise<void> {
  for (const session of sessions) {
    const clients = await deps.store.write(async (tx) => {
      const ids = await tx.oidc.clientsOfSession(session.idHash);
      if (ids.length > 0) await tx.oidc.revokeAccessTokensOfSession(session.idHash);
      const out = [];
      for (const id of ids) out.push({ id, client: await tx.oidc.client(id) });
      return out;
    });
    for (const { id: clientId, client } of clients) {
      if (!client?.backchannelLogoutUri) continue;
      const now = Math.floor(deps.clock.now().getTime() / 1000);
      let status: number | string;
      try {
        const { jws } = await deps.keys.signJws(
          { iss: deps.config.origin, aud: clientId, iat: now, exp: now + 120, jti: randomUUID(), sub: session.identityId, sid: session.sid, events: { [BACKCHANNEL_EVENT]: {} } },
          'logout+jwt',
        );
        status = await postForm(client.backchannelLogoutUri, { logout_token: jws }, { developmentMode: deps.config.developmentMode, timeoutMs: 5000 });
      } catch (err) {
        status = err instanceof Error ? err.message.slice(0, 100) : 'failed';
      }
      await auditOidc(deps, 'oidc.backchannel-logout', { identityId: null, role: 'system' }, clientId, { sid: session.sid, status });
    }
  }
}

/** Single logout (NSIS 6 (Low) 5): every session of the person ends, every relying party is told. */
export async function logoutEverywhere(deps: OidcDeps, identityId: string): Promise<number> {
  const ended = await endAllSessions(deps.core, identityId, 'single-logout');
  await backchannelLogout(deps, ended);
  return ended.length;
}
