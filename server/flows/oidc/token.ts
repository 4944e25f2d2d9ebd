/**
 * The token endpoint (OIDC Core §3.1.3): client authentication (clientAuthentication.ts), the
 * single-use code (a code used twice revokes what was issued from it, RFC 6749 §4.1.2), PKCE, the
 * session still live, an ID token signed by the HSM's active key, an opaque access token bound to
 * the client and the session. Every outcome is audited.
 */
import { createHash } from 'node:crypto';
import type { OidcClient } from '../../domain/oidc.js';
import { authenticateClient } from '../../oidc/clientAuthentication.js';
import { OAuthError } from '../../oidc/OAuthError.js';
import { plainHash, randomToken } from '../../security/oneTimeSecrets.js';
import { identityTokenClaims } from '../../tokens/identityToken.js';
import { resolveSessionByHash } from '../sessions/resolveSession.js';
import { auditOidc, str, type OidcDeps } from './oidcDeps.js';

const ACCESS_TOKEN_TTL_S = 300;

export async function token(deps: OidcDeps, form: Record<string, unknown>, authorization: string | undefined): Promise<object> {
  const issuer = deps.config.origin;
  let client: OidcClient | undefined;
  try {
    client = await authenticateClient({ store: deps.store, secretKey: deps.secretKey, issuer, now: deps.clock.now(), log: deps.log }, form, authorization);
    if (str(form, 'grant_type') !== 'authorization_code') throw new OAuthError('unsupported_grant_type', 'Only authorization_code is supported.');
    const code = str(form, 'code') ?? '';
    const now = deps.clock.now();
    const record = await deps.store.write((tx) => tx.oidc.consumeCode(plainHash(code), now.toISOString()));
    if (!record) throw new OAuthError('invalid_grant', 'Unknown authorization code.');
    if (record.consumedBefore) {
      // RFC 6749 §4.1.2: a reused code revokes what was issued from it.
      await deps.store.write((tx) => tx.oidc.revokeAccessTokensOfCode(plainHash(code)));
      throw new OAuthError('invalid_grant', 'The authorization code was already used.');
    }
    if (record.expiresAt <= now.toISOString()) throw new OAuthError('invalid_grant', 'The authorization code has expired.');
    if (record.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'The code was issued to another client.');
    if (str(form, 'redirect_uri') !== record.redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request.');
    const verifier = str(form, 'code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || challenge !== record.codeChallenge) throw new OAuthError('invalid_grant', 'PKCE verification failed.');
    const view = await resolveSessionByHash(deps.core, record.sessionHash);
    if (!view) throw new OAuthError('invalid_grant', 'The sign-in session has ended.');
    const org = await deps.store.read((tx) => tx.organisations.get(view.identity.organisationId));
    if (!org) throw new Error('identity without organisation');
    const base = identityTokenClaims({
      issuer,
      audience: client.clientId,
      identity: view.identity,
      organisation: org,
      authTime: new Date(view.session.createdAt),
      aal: view.session.aal,
      amr: view.session.amr,
      fal: deps.config.federationLevel,
      now,
      ttlSeconds: deps.config.tokenTtlSeconds,
    });
    const idClaims = { ...base, nonce: record.nonce, acr: base.loa, sid: view.session.sid, azp: client.clientId };
    const { jws } = await deps.keys.signJws(idClaims);
    const accessToken = randomToken(32);
    const clientId = client.clientId;
    await deps.store.write((tx) =>
      tx.oidc.insertAccessToken(plainHash(accessToken), {
        clientId,
        sessionHash: record.sessionHash,
        scope: record.scope,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + ACCESS_TOKEN_TTL_S * 1000).toISOString(),
        codeHash: plainHash(code),
      }),
    );
    await auditOidc(deps, 'oidc.token', { identityId: view.identity.id, role: 'holder' }, client.clientId, {
      status: 200,
      jti: idClaims.jti,
      claims: Object.keys(idClaims).sort(),
      loa: idClaims.loa,
      accessToken: plainHash(accessToken).slice(0, 16),
    });
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_S, id_token: jws, scope: record.scope };
  } catch (err) {
    if (err instanceof OAuthError) await auditOidc(deps, 'oidc.token', { identityId: null, role: 'system' }, client?.clientId ?? null, { status: err.status, error: err.error });
    throw err;
  }
}
