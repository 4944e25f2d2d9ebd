/** Migration 15: inbound provisioning (issue 18): provisioning clients, their tokens, the SCIM Users they manage. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 15,
  name: 'inbound provisioning: provisioning clients, their tokens, SCIM Users',
  // A token's secret is kept only as an HMAC under the gateway key (server/scim/tokens.ts). A SCIM
  // User is the directory's view of one bound person; its version is the ETag (RFC 7644 §3.14)
  // and every write is a compare-and-set on it. userName is unique per organisation without case
  // (RFC 7643 §4.1.1), externalId with case.
  sql: `CREATE TABLE provisioning_clients (
  id TEXT PRIMARY KEY,
  organisation_id TEXT NOT NULL REFERENCES organisations(id),
  label TEXT NOT NULL,
  ial TEXT NOT NULL CHECK (ial IN ('low', 'substantial', 'high')),
  proofing_method TEXT NOT NULL,
  created_by TEXT REFERENCES identities(id),
  created_at TEXT NOT NULL
);
CREATE INDEX provisioning_clients_org ON provisioning_clients (organisation_id, created_at);
CREATE TABLE provisioning_tokens (
  token_id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES provisioning_clients(id),
  secret_hash TEXT NOT NULL,
  created_by TEXT REFERENCES identities(id),
  created_at TEXT NOT NULL,
  not_after TEXT,
  revoked_at TEXT
);
CREATE INDEX provisioning_tokens_client ON provisioning_tokens (client_id, created_at);
CREATE TABLE scim_users (
  id TEXT PRIMARY KEY,
  organisation_id TEXT NOT NULL REFERENCES organisations(id),
  client_id TEXT NOT NULL REFERENCES provisioning_clients(id),
  identity_id TEXT NOT NULL UNIQUE REFERENCES identities(id),
  user_name_key TEXT NOT NULL,
  external_id TEXT,
  version INTEGER NOT NULL CHECK (version >= 1),
  created_at TEXT NOT NULL,
  last_modified TEXT NOT NULL,
  resource TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (organisation_id, user_name_key);
CREATE UNIQUE INDEX scim_users_external_id ON scim_users (organisation_id, external_id) WHERE external_id IS NOT NULL;`,
};
