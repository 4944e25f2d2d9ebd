/** The userinfo endpoint (OIDC Core §5.3): the claims a live access token's scopes allow. */
import { loaUri } from '../../assurance/levels.js';
import { credentialsFor } from '../../oidc/authScheme.js';
import { OAuthError } from '../../oidc/OAuthError.js';
import { plainHash } from '../../security/oneTimeSecrets.js';
import { resolveSessionByHash } from '../sessions/resolveSession.js';
import { auditOidc, sessionLoa, type OidcDeps } from './oidcDeps.js';

export async function userinfo(deps: OidcDeps, authorization: string | undefined): Promise<object> {
  // RFC 6750 §2.1 with RFC 7235 §2.1: the scheme is case-insensitive.
  const bearer = credentialsFor(authorization, 'bearer') ?? '';
  const found = bearer
    ? await deps.store.read(async (tx) => {
        const token = await tx.oidc.accessToken(plainHash(bearer));
        return token ? { token, client: await tx.oidc.client(token.clientId) } : undefined;
      })
    : undefined;
  const record = found?.token;
  // Issue 16: a disabled client's tokens are revoked as it is disabled; one issued by a token
  // request that was already under way then is refused here.
  const live = record !== undefined && found?.client !== undefined && found.client.disabledAt === null && record.expiresAt > deps.clock.now().toISOString();
  const view = live ? await resolveSessionByHash(deps.core, record.sessionHash) : undefined;
  if (!record || !view) {
    await auditOidc(deps, 'oidc.userinfo', { identityId: null, role: 'system' }, record?.clientId ?? null, { status: 401 });
    throw new OAuthError('invalid_token', 'The access token is unknown, expired, revoked, or its session has ended.', 401);
  }
  const org = await deps.store.read((tx) => tx.organisations.get(view.identity.organisationId));
  const scopes = record.scope.split(' ');
  const claims = {
    sub: view.identity.id,
    cvr: org?.cvr ?? null,
    org_name: org?.name ?? null,
    loa: loaUri(sessionLoa(deps, view)),
    ...(scopes.includes('profile') ? { name: view.identity.name } : {}),
    ...(scopes.includes('email') ? { email: view.identity.email } : {}),
  };
  await auditOidc(deps, 'oidc.userinfo', { identityId: view.identity.id, role: 'holder' }, record.clientId, { status: 200, claims: Object.keys(claims).sort() });
  return claims;
}
