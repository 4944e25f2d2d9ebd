/**
 * OpenID Provider state: registered relying parties, pending authorization requests, single-use
 * authorization codes, access tokens (hashes only), and which relying parties each session used.
 */
import type { OidcAccessToken, OidcClient, OidcCode, OidcPendingRequest } from '../../domain/oidc.js';
import type { OidcRepo } from '../../ports/repositories.js';
import { insertOrConflict } from './conflict.js';
import type { Row, Sql } from './pool.js';
import * as records from './records.js';
import { str, strOrNull } from './rows.js';

function code(r: Row): OidcCode {
  return {
    clientId: str(r, 'client_id'),
    redirectUri: str(r, 'redirect_uri'),
    sessionHash: str(r, 'session_hash'),
    nonce: strOrNull(r, 'nonce'),
    codeChallenge: str(r, 'code_challenge'),
    scope: str(r, 'scope'),
    createdAt: str(r, 'created_at'),
    expiresAt: str(r, 'expires_at'),
  };
}

export class PgOidc implements OidcRepo {
  constructor(private readonly sql: Sql) {}

  async upsertClient(c: Omit<OidcClient, 'disabledAt'>): Promise<void> {
    await this.sql.count(
      `INSERT INTO oidc_clients (client_id, name, redirect_uris, post_logout_redirect_uris, auth_method, secret_hash, jwks, scopes, min_loa,
         backchannel_logout_uri, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris,
         post_logout_redirect_uris = excluded.post_logout_redirect_uris, auth_method = excluded.auth_method,
         secret_hash = excluded.secret_hash, jwks = excluded.jwks, scopes = excluded.scopes, min_loa = excluded.min_loa,
         backchannel_logout_uri = excluded.backchannel_logout_uri`,
      [
        c.clientId,
        c.name,
        JSON.stringify(c.redirectUris),
        JSON.stringify(c.postLogoutRedirectUris),
        c.authMethod,
        c.secretHash,
        c.jwks,
        JSON.stringify(c.scopes),
        c.minLoa,
        c.backchannelLogoutUri,
        c.createdBy,
        c.createdAt,
      ],
    );
  }

  async setClientSecretHash(clientId: string, secretHash: string): Promise<boolean> {
    return (await this.sql.count('UPDATE oidc_clients SET secret_hash = $1 WHERE client_id = $2', [secretHash, clientId])) === 1;
  }

  async setClientDisabled(clientId: string, at: string | null): Promise<boolean> {
    return at === null
      ? (await this.sql.count('UPDATE oidc_clients SET disabled_at = NULL WHERE client_id = $1 AND disabled_at IS NOT NULL', [clientId])) === 1
      : (await this.sql.count('UPDATE oidc_clients SET disabled_at = $1 WHERE client_id = $2 AND disabled_at IS NULL', [at, clientId])) === 1;
  }

  async client(clientId: string): Promise<OidcClient | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM oidc_clients WHERE client_id = $1', [clientId]);
    return r === undefined ? undefined : records.oidcClient(r);
  }

  async clients(): Promise<OidcClient[]> {
    return (await this.sql.rows('SELECT * FROM oidc_clients ORDER BY client_id COLLATE "C"')).map(records.oidcClient);
  }

  async insertRequest(id: string, clientId: string, params: string, createdAt: string, expiresAt: string): Promise<void> {
    await insertOrConflict(
      this.sql,
      'INSERT INTO oidc_requests (id, client_id, params, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
      [id, clientId, params, createdAt, expiresAt],
    );
  }

  async request(id: string): Promise<OidcPendingRequest | undefined> {
    const [r] = await this.sql.rows('SELECT client_id, params, created_at, expires_at, consumed_at FROM oidc_requests WHERE id = $1', [id]);
    return r === undefined
      ? undefined
      : { clientId: str(r, 'client_id'), params: str(r, 'params'), createdAt: str(r, 'created_at'), expiresAt: str(r, 'expires_at'), consumed: strOrNull(r, 'consumed_at') !== null };
  }

  async consumeRequest(id: string, at: string): Promise<Pick<OidcPendingRequest, 'clientId' | 'params' | 'createdAt'> | undefined> {
    const [r] = await this.sql.rows(
      'UPDATE oidc_requests SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL AND expires_at > $1 RETURNING client_id, params, created_at',
      [at, id],
    );
    return r === undefined ? undefined : { clientId: str(r, 'client_id'), params: str(r, 'params'), createdAt: str(r, 'created_at') };
  }

  async insertCode(codeHash: string, c: OidcCode): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, session_hash, nonce, code_challenge, scope, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [codeHash, c.clientId, c.redirectUri, c.sessionHash, c.nonce, c.codeChallenge, c.scope, c.createdAt, c.expiresAt],
    );
  }

  async consumeCode(codeHash: string, at: string): Promise<(OidcCode & { consumedBefore: boolean }) | undefined> {
    // The first redemption is one statement; a caller that waited for its row lock re-checks
    // `consumed_at IS NULL` on the committed row and falls through to the replay path.
    const [first] = await this.sql.rows('UPDATE oidc_codes SET consumed_at = $1 WHERE code_hash = $2 AND consumed_at IS NULL RETURNING *', [at, codeHash]);
    if (first !== undefined) return { ...code(first), consumedBefore: false };
    const [replayed] = await this.sql.rows('SELECT * FROM oidc_codes WHERE code_hash = $1', [codeHash]);
    return replayed === undefined ? undefined : { ...code(replayed), consumedBefore: true };
  }

  async insertAccessToken(tokenHash: string, t: OidcAccessToken): Promise<void> {
    await insertOrConflict(
      this.sql,
      'INSERT INTO oidc_access_tokens (token_hash, client_id, session_hash, scope, created_at, expires_at, code_hash) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [tokenHash, t.clientId, t.sessionHash, t.scope, t.createdAt, t.expiresAt, t.codeHash],
    );
  }

  async accessToken(tokenHash: string): Promise<OidcAccessToken | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM oidc_access_tokens WHERE token_hash = $1', [tokenHash]);
    return r === undefined
      ? undefined
      : {
          clientId: str(r, 'client_id'),
          sessionHash: str(r, 'session_hash'),
          scope: str(r, 'scope'),
          createdAt: str(r, 'created_at'),
          expiresAt: str(r, 'expires_at'),
          codeHash: strOrNull(r, 'code_hash') ?? '',
        };
  }

  async revokeAccessTokensOfCode(codeHash: string): Promise<void> {
    await this.sql.count('DELETE FROM oidc_access_tokens WHERE code_hash = $1', [codeHash]);
  }

  async revokeAccessTokensOfSession(sessionHash: string): Promise<void> {
    await this.sql.count('DELETE FROM oidc_access_tokens WHERE session_hash = $1', [sessionHash]);
  }

  async revokeAccessTokensOfClient(clientId: string): Promise<number> {
    return this.sql.count('DELETE FROM oidc_access_tokens WHERE client_id = $1', [clientId]);
  }

  async recordSessionClient(sessionHash: string, clientId: string): Promise<void> {
    await this.sql.count('INSERT INTO oidc_session_clients (session_hash, client_id) VALUES ($1, $2) ON CONFLICT (session_hash, client_id) DO NOTHING', [sessionHash, clientId]);
  }

  async clientsOfSession(sessionHash: string): Promise<string[]> {
    return (await this.sql.rows('SELECT client_id FROM oidc_session_clients WHERE session_hash = $1 ORDER BY client_id COLLATE "C"', [sessionHash])).map((r) => str(r, 'client_id'));
  }

  async useAssertionJti(jti: string, clientId: string, expiresAt: string): Promise<boolean> {
    // A caller that raced the first insert of the same jti waits for it and then inserts nothing.
    return (await this.sql.count('INSERT INTO oidc_assertion_jtis (jti, client_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING', [jti, clientId, expiresAt])) === 1;
  }

  async pruneExpired(at: string): Promise<void> {
    await this.sql.count('DELETE FROM oidc_assertion_jtis WHERE expires_at < $1', [at]);
    await this.sql.count('DELETE FROM oidc_access_tokens WHERE expires_at < $1', [at]);
    await this.sql.count('DELETE FROM oidc_requests WHERE expires_at < $1', [at]);
    await this.sql.count('DELETE FROM oidc_codes WHERE expires_at < $1', [at]);
  }
}
