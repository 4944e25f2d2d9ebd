/**
 * An org-admin manages a registered relying party from the clients page (issue 16): rotates its
 * secret (answered once, only its keyed hash stored), changes its redirect URIs without touching
 * the secret, disables or enables it. A client from the config file (GATEWAY_OIDC_CLIENTS_FILE,
 * registered by the system: no creator) is changed only in that file. Every change is audited in
 * the transaction that makes it (NSIS 6 (Low) 7).
 */
import type { Actor } from '../../domain/types.js';
import type { OidcClient } from '../../domain/oidc.js';
import { NotFoundError, OidcClientError } from '../../errors.js';
import type { WriteTx } from '../../ports/store.js';
import { keyedHash, randomToken } from '../../security/oneTimeSecrets.js';
import { appendAudit } from '../shared/audit.js';
import type { OidcDeps } from './oidcDeps.js';
import { checkClientUris } from './registerClient.js';

/** A client from the config file: the system registered it, nobody in the console did. */
export function fromConfigFile(c: Pick<OidcClient, 'createdBy'>): boolean {
  return c.createdBy === null;
}

async function changeable(tx: WriteTx, clientId: string): Promise<OidcClient> {
  const c = await tx.oidc.client(clientId);
  if (!c) throw new NotFoundError(`No OpenID Connect client ${clientId}.`);
  if (fromConfigFile(c)) throw new OidcClientError('OIDC_CLIENT_READ_ONLY', `Client ${clientId} comes from the configuration file (GATEWAY_OIDC_CLIENTS_FILE): change it there.`);
  return c;
}

/** A new secret for a client_secret_basic client; the old one is refused from this commit on. */
export async function rotateClientSecret(deps: OidcDeps, actor: Actor, clientId: string): Promise<{ clientId: string; clientSecret: string }> {
  const secret = randomToken(32);
  await deps.store.write(async (tx) => {
    const c = await changeable(tx, clientId);
    if (c.authMethod !== 'client_secret_basic') throw new OidcClientError('OIDC_CLIENT_NO_SECRET', `Client ${clientId} authenticates with private_key_jwt: it has no secret.`);
    await tx.oidc.setClientSecretHash(clientId, keyedHash(deps.secretKey, 'oidc-client-secret', secret));
    // Never the secret, nor its hash, in the audit trail.
    await appendAudit(tx, deps.clock.now().toISOString(), 'oidc.client-secret-rotated', actor, clientId, {});
  });
  return { clientId, clientSecret: secret };
}

/** New redirect and post-logout redirect URIs; the secret, keys, scopes and level stay. */
export async function changeClientUris(deps: OidcDeps, actor: Actor, clientId: string, uris: { redirectUris: string[]; postLogoutRedirectUris: string[] }): Promise<void> {
  checkClientUris([...uris.redirectUris, ...uris.postLogoutRedirectUris]);
  await deps.store.write(async (tx) => {
    const { disabledAt: _disabledAt, ...c } = await changeable(tx, clientId);
    await tx.oidc.upsertClient({ ...c, redirectUris: uris.redirectUris, postLogoutRedirectUris: uris.postLogoutRedirectUris });
    await appendAudit(tx, deps.clock.now().toISOString(), 'oidc.client-uris-changed', actor, clientId, {
      before: { redirectUris: c.redirectUris, postLogoutRedirectUris: c.postLogoutRedirectUris },
      after: uris,
    });
  });
}

/**
 * Disables (every endpoint refuses the client) or enables it again; compare-and-set on the state.
 * Disabling revokes every access token the client holds in the same commit (issue 16; NSIS 6
 * (Low) 1, 5: a token is honoured only on a valid basis, and a client the organisation switched
 * off is none), so userinfo refuses them from that commit on; the number revoked is in the event.
 * Enabling gives nothing back. The gateway issues no refresh tokens (authorization_code only).
 */
export async function setClientEnabled(deps: OidcDeps, actor: Actor, clientId: string, enabled: boolean): Promise<void> {
  await deps.store.write(async (tx) => {
    await changeable(tx, clientId);
    const at = deps.clock.now().toISOString();
    if (!(await tx.oidc.setClientDisabled(clientId, enabled ? null : at))) {
      throw new OidcClientError('OIDC_CLIENT_STATE', `Client ${clientId} is already ${enabled ? 'enabled' : 'disabled'}.`);
    }
    if (enabled) {
      await appendAudit(tx, at, 'oidc.client-enabled', actor, clientId, {});
      return;
    }
    const accessTokensRevoked = await tx.oidc.revokeAccessTokensOfClient(clientId);
    await appendAudit(tx, at, 'oidc.client-disabled', actor, clientId, { accessTokensRevoked, clause: 'NSIS 6 (Low) 1, 5' });
  });
}
