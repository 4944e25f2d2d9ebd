-- PostgreSQL migration 4: the twin of SQLite migration 15 (issue 18, inbound provisioning).
-- Never edit this file once shipped: add 0005_*.sql.
--
-- A token's secret is kept only as an HMAC under the gateway key (server/scim/tokens.ts). A SCIM
-- User is the directory's view of one bound person; its version is the ETag (RFC 7644 §3.14) and
-- every write is a compare-and-set on it. userName is unique per organisation without case
-- (RFC 7643 §4.1.1), externalId with case.

CREATE TABLE provisioning_clients (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id),
  label text NOT NULL,
  ial text NOT NULL CHECK (ial IN ('low', 'substantial', 'high')),
  proofing_method text NOT NULL,
  created_by text REFERENCES identities(id),
  created_at timestamptz NOT NULL
);
CREATE INDEX provisioning_clients_org ON provisioning_clients (organisation_id, created_at);

CREATE TABLE provisioning_tokens (
  token_id text PRIMARY KEY,
  client_id text NOT NULL REFERENCES provisioning_clients(id),
  secret_hash text NOT NULL,
  created_by text REFERENCES identities(id),
  created_at timestamptz NOT NULL,
  not_after timestamptz,
  revoked_at timestamptz
);
CREATE INDEX provisioning_tokens_client ON provisioning_tokens (client_id, created_at);

CREATE TABLE scim_users (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id),
  client_id text NOT NULL REFERENCES provisioning_clients(id),
  identity_id text NOT NULL UNIQUE REFERENCES identities(id),
  user_name_key text NOT NULL,
  external_id text,
  version integer NOT NULL CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  last_modified timestamptz NOT NULL,
  resource text NOT NULL
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (organisation_id, user_name_key);
CREATE UNIQUE INDEX scim_users_external_id ON scim_users (organisation_id, external_id) WHERE external_id IS NOT NULL;
