/**
 * OpenID Provider state: registered relying parties, pending authorization requests, single-use
 * authorization codes, access tokens (hashes only), and which relying parties each session used.
 */
import type Database from 'better-sqlite3';
import { IDENTITY_ASSURANCE_LEVELS, type AssuranceLevel } from '../domain/types.js';
import * as rows from './sqlite/rows.js';

import type { OidcClient, OidcCode } from '../domain/oidc.js';

export type { OidcClient, OidcCode } from '../domain/oidc.js';

function list(text: string): string[] {
  const v: unknown = JSON.parse(text);
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new TypeError('store: expected a string list');
  return v;
}

function clientRow(r: unknown): OidcClient {
  return {
    clientId: rows.str(r, 'client_id'),
    name: rows.str(r, 'name'),
    redirectUris: list(rows.str(r, 'redirect_uris')),
    postLogoutRedirectUris: list(rows.str(r, 'post_logout_redirect_uris')),
    authMethod: rows.oneOf(r, 'auth_method', ['client_secret_basic', 'private_key_jwt'] as const),
    secretHash: rows.strOrNull(r, 'secret_hash'),
    jwks: rows.strOrNull(r, 'jwks'),
    scopes: list(rows.str(r, 'scopes')),
    minLoa: rows.oneOf(r, 'min_loa', IDENTITY_ASSURANCE_LEVELS),
    backchannelLogoutUri: rows.strOrNull(r, 'backchannel_logout_uri'),
    createdBy: rows.strOrNull(r, 'created_by'),
    createdAt: rows.str(r, 'created_at'),
  };
}

export class OidcRepository {
  constructor(private readonly db: Database.Database) {}

  upsertClient(c: OidcClient): void {
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

  getClient(clientId: string): OidcClient | undefined {
    const r = this.db.prepare('SELECT * FROM oidc_clients WHERE client_id = ?').get(clientId);
    return r === undefined ? undefined : clientRow(r);
  }

  listClients(): OidcClient[] {
    return this.db.prepare('SELECT * FROM oidc_clients ORDER BY client_id').all().map(clientRow);
  }

  insertRequest(id: string, clientId: string, params: string, createdAt: string, expiresAt: string): void {
    this.db.prepare('INSERT INTO oidc_requests (id, client_id, params, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(id, clientId, params, createdAt, expiresAt);
  }

  /** A pending authorization request as stored, whether live, used or expired (read only). */
  findRequest(id: string): { clientId: string; params: string; createdAt: string; expiresAt: string; consumed: boolean } | undefined {
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

  /** Single use: returns the request's parameters once, while it is live. */
  consumeRequest(id: string, at: string): { clientId: string; params: string; createdAt: string } | undefined {
    const r = this.db
      .prepare('UPDATE oidc_requests SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL AND expires_at > ? RETURNING client_id, params, created_at')
      .get(at, id, at);
    return r === undefined ? undefined : { clientId: rows.str(r, 'client_id'), params: rows.str(r, 'params'), createdAt: rows.str(r, 'created_at') };
  }

  insertCode(codeHash: string, c: OidcCode): void {
    this.db
      .prepare(
        `INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, session_hash, nonce, code_challenge, scope, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(codeHash, c.clientId, c.redirectUri, c.sessionHash, c.nonce, c.codeChallenge, c.scope, c.createdAt, c.expiresAt);
  }

  /** Single use (RFC 6749 §4.1.2): the code as it was, or undefined if unknown or already used. */
  consumeCode(codeHash: string, at: string): (OidcCode & { consumedBefore: boolean }) | undefined {
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

  insertAccessToken(tokenHash: string, clientId: string, sessionHash: string, scope: string, createdAt: string, expiresAt: string, codeHash: string): void {
    this.db
      .prepare('INSERT INTO oidc_access_tokens (token_hash, client_id, session_hash, scope, created_at, expires_at, code_hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(tokenHash, clientId, sessionHash, scope, createdAt, expiresAt, codeHash);
  }

  /** RFC 6749 §4.1.2: a code used twice loses what was issued from it. */
  revokeAccessTokensOfCode(codeHash: string): void {
    this.db.prepare('DELETE FROM oidc_access_tokens WHERE code_hash = ?').run(codeHash);
  }

  pruneExpired(at: string): void {
    this.db.prepare('DELETE FROM oidc_assertion_jtis WHERE expires_at < ?').run(at);
    this.db.prepare('DELETE FROM oidc_access_tokens WHERE expires_at < ?').run(at);
    this.db.prepare('DELETE FROM oidc_requests WHERE expires_at < ?').run(at);
    this.db.prepare('DELETE FROM oidc_codes WHERE expires_at < ?').run(at);
  }

  getAccessToken(tokenHash: string): { clientId: string; sessionHash: string; scope: string; expiresAt: string } | undefined {
    const r = this.db.prepare('SELECT * FROM oidc_access_tokens WHERE token_hash = ?').get(tokenHash);
    return r === undefined
      ? undefined
      : { clientId: rows.str(r, 'client_id'), sessionHash: rows.str(r, 'session_hash'), scope: rows.str(r, 'scope'), expiresAt: rows.str(r, 'expires_at') };
  }

  /** Tokens issued from a session die with it (an ended session makes them useless). */
  revokeAccessTokensOfSession(sessionHash: string): void {
    this.db.prepare('DELETE FROM oidc_access_tokens WHERE session_hash = ?').run(sessionHash);
  }

  recordSessionClient(sessionHash: string, clientId: string): void {
    this.db.prepare('INSERT OR IGNORE INTO oidc_session_clients (session_hash, client_id) VALUES (?, ?)').run(sessionHash, clientId);
  }

  clientsOfSession(sessionHash: string): string[] {
    return this.db
      .prepare('SELECT client_id FROM oidc_session_clients WHERE session_hash = ? ORDER BY client_id')
      .all(sessionHash)
      .map((r) => rows.str(r, 'client_id'));
  }

  /** A client assertion's jti is accepted once (RFC 7523 §3 replay protection). */
  useAssertionJti(jti: string, clientId: string, expiresAt: string): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO oidc_assertion_jtis (jti, client_id, expires_at) VALUES (?, ?, ?)').run(jti, clientId, expiresAt).changes === 1;
  }
}
