/** Migration 4: OpenID Provider. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 4,
  name: 'OpenID Provider',
  sql: `
CREATE TABLE oidc_clients (
  client_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,
  post_logout_redirect_uris TEXT NOT NULL,
  auth_method TEXT NOT NULL CHECK (auth_method IN ('client_secret_basic', 'private_key_jwt')),
  secret_hash TEXT,
  jwks TEXT,
  scopes TEXT NOT NULL,
  min_loa TEXT NOT NULL CHECK (min_loa IN ('low', 'substantial', 'high')),
  backchannel_logout_uri TEXT,
  created_by TEXT,
  created_at TEXT NOT NULL
);

CREATE TABLE oidc_requests (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES oidc_clients(client_id),
  params TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT
);

CREATE TABLE oidc_codes (
  code_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES oidc_clients(client_id),
  redirect_uri TEXT NOT NULL,
  session_hash TEXT NOT NULL,
  nonce TEXT,
  code_challenge TEXT NOT NULL,
  scope TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT
);

CREATE TABLE oidc_access_tokens (
  token_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  session_hash TEXT NOT NULL,
  scope TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

CREATE TABLE oidc_session_clients (
  session_hash TEXT NOT NULL,
  client_id TEXT NOT NULL,
  PRIMARY KEY (session_hash, client_id)
);

CREATE TABLE oidc_assertion_jtis (
  jti TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

ALTER TABLE sessions ADD COLUMN sid TEXT;
`,
};
