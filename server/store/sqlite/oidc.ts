/**
 * OpenID Provider state: registered relying parties, pending authorization requests, single-use
 * authorization codes, access tokens (hashes only), and which relying parties each session used.
 */
import type { OidcAccessToken, OidcClient, OidcCode, OidcPendingRequest } from '../../domain/oidc.js';
import type { OidcRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import { oidcClient } from './recordRows.js';
import * as rows from './rows.js';

export class SqliteOidc implements OidcRepo {
  constructor(private readonly db: Connection) {}

  async upsertClient(c: Omit<OidcClient, 'disabledAt'>): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO oidc_clients (client_id, name, redirect_uris, post_logout_redirect_uris, auth_method, secret_hash, jwks, scopes, min_loa,
           backchannel_logout_uri, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(client_id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris,
           post_logout_redirect_uris = excluded.post_logout_redirect_uris, auth_method = excluded.auth_method,
           secret_hash = excluded.secret_hash, jwks = excluded.jwks, scopes = excluded.scopes, min_loa = excluded.min_loa,
           backchannel_logout_uri = excluded.backchannel_logout_uri`,
      )
      .run(
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
      );
  }

  async setClientSecretHash(clientId: string, secretHash: string): Promise<boolean> {
    return this.db.prepare('UPDATE oidc_clients SET secret_hash = ? WHERE client_id = ?').run(secretHash, clientId).changes === 1;
  }

  async setClientDisabled(clientId: string, at: string | null): Promise<boolean> {
    const sql = at === null ? 'UPDATE oidc_clients SET disabled_at = NULL WHERE client_id = ? AND disabled_at IS NOT NULL' : 'UPDATE oidc_clients SET disabled_at = ? WHERE client_id = ? AND disabled_at IS NULL';
    return (at === null ? this.db.prepare(sql).run(clientId) : this.db.prepare(sql).run(at, clientId)).changes === 1;
  }

  async client(clientId: string): Promise<OidcClient | undefined> {
    const r = this.db.prepare('SELECT * FROM oidc_clients WHERE client_id = ?').get(clientId);
    return r === undefined ? undefined : oidcClient(r);
  }

  async clients(): Promise<OidcClient[]> {
    return this.db.prepare('SELECT * FROM oidc_clients ORDER BY client_id').all().map(oidcClient);
  }

  async insertRequest(id: string, clientId: string, params: string, createdAt: string, expiresAt: string): Promise<void> {
    this.db.prepare('INSERT INTO oidc_requests (id, client_id, params, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(id, clientId, params, createdAt, expiresAt);
  }

  async request(id: string): Promise<OidcPendingRequest | undefined> {
    const r = this.db.prepare('SELECT client_id, params, created_at, expires_at, consumed_at FROM oidc_requests WHERE id = ?').get(id);
    return r === undefined
      ? undefined
      : {
          clientId: rows.str(r, 'client_id'),
          params: rows.str(r, 'params'),
          createdAt: rows.str(r, 'created_at'),
          expiresAt: rows.str(r, 'expires_at'),
          consumed: rows.strOrNull(r, 'consumed_at') !== null,
        };
  }

  async consumeRequest(id: string, at: string): Promise<Pick<OidcPendingRequest, 'clientId' | 'params' | 'createdAt'> | undefined> {
    const r = this.db
      .prepare('UPDATE oidc_requests SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL AND expires_at > ? RETURNING client_id, params, created_at')
      .get(at, id, at);
    return r === undefined ? undefined : { clientId: rows.str(r, 'client_id'), params: rows.str(r, 'params'), createdAt: rows.str(r, 'created_at') };
  }

  async insertCode(codeHash: string, c: OidcCode): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, session_hash, nonce, code_challenge, scope, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(codeHash, c.clientId, c.redirectUri, c.sessionHash, c.nonce, c.codeChallenge, c.scope, c.createdAt, c.expiresAt);
  }

  async consumeCode(codeHash: string, at: string): Promise<(OidcCode & { consumedBefore: boolean }) | undefined> {
    const before = this.db.prepare('SELECT consumed_at FROM oidc_codes WHERE code_hash = ?').get(codeHash);
    if (before === undefined) return undefined;
    const r = this.db.prepare('UPDATE oidc_codes SET consumed_at = coalesce(consumed_at, ?) WHERE code_hash = ? RETURNING *').get(at, codeHash);
    if (r === undefined) return undefined;
    return {
      clientId: rows.str(r, 'client_id'),
      redirectUri: rows.str(r, 'redirect_uri'),
      sessionHash: rows.str(r, 'session_hash'),
      nonce: rows.strOrNull(r, 'nonce'),
      codeChallenge: rows.str(r, 'code_challenge'),
      scope: rows.str(r, 'scope'),
      createdAt: rows.str(r, 'created_at'),
      expiresAt: rows.str(r, 'expires_at'),
      consumedBefore: rows.strOrNull(before, 'consumed_at') !== null,
    };
  }

  async insertAccessToken(tokenHash: string, t: OidcAccessToken): Promise<void> {
    this.db
      .prepare('INSERT INTO oidc_access_tokens (token_hash, client_id, session_hash, scope, created_at, expires_at, code_hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(tokenHash, t.clientId, t.sessionHash, t.scope, t.createdAt, t.expiresAt, t.codeHash);
  }

  async accessToken(tokenHash: string): Promise<OidcAccessToken | undefined> {
    const r = this.db.prepare('SELECT * FROM oidc_access_tokens WHERE token_hash = ?').get(tokenHash);
    return r === undefined
      ? undefined
      : {
          clientId: rows.str(r, 'client_id'),
          sessionHash: rows.str(r, 'session_hash'),
          scope: rows.str(r, 'scope'),
          createdAt: rows.str(r, 'created_at'),
          expiresAt: rows.str(r, 'expires_at'),
          codeHash: rows.strOrNull(r, 'code_hash') ?? '',
        };
  }

  async revokeAccessTokensOfCode(codeHash: string): Promise<void> {
    this.db.prepare('DELETE FROM oidc_access_tokens WHERE code_hash = ?').run(codeHash);
  }

  async revokeAccessTokensOfSession(sessionHash: string): Promise<void> {
    this.db.prepare('DELETE FROM oidc_access_tokens WHERE session_hash = ?').run(sessionHash);
  }

  async revokeAccessTokensOfClient(clientId: string): Promise<number> {
    return this.db.prepare('DELETE FROM oidc_access_tokens WHERE client_id = ?').run(clientId).changes;
  }

  async recordSessionClient(sessionHash: string, clientId: string): Promise<void> {
    this.db.prepare('INSERT INTO oidc_session_clients (session_hash, client_id) VALUES (?, ?) ON CONFLICT (session_hash, client_id) DO NOTHING').run(sessionHash, clientId);
  }

  async clientsOfSession(sessionHash: string): Promise<string[]> {
    return this.db
      .prepare('SELECT client_id FROM oidc_session_clients WHERE session_hash = ? ORDER BY client_id')
      .all(sessionHash)
      .map((r) => rows.str(r, 'client_id'));
  }

  async useAssertionJti(jti: string, clientId: string, expiresAt: string): Promise<boolean> {
    return this.db.prepare('INSERT INTO oidc_assertion_jtis (jti, client_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO NOTHING').run(jti, clientId, expiresAt).changes === 1;
  }

  async pruneExpired(at: string): Promise<void> {
    this.db.prepare('DELETE FROM oidc_assertion_jtis WHERE expires_at < ?').run(at);
    this.db.prepare('DELETE FROM oidc_access_tokens WHERE expires_at < ?').run(at);
    this.db.prepare('DELETE FROM oidc_requests WHERE expires_at < ?').run(at);
    this.db.prepare('DELETE FROM oidc_codes WHERE expires_at < ?').run(at);
  }
}
