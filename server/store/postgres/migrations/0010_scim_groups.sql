-- PostgreSQL migration 10: the twin of SQLite migration 20 (issue 18, SCIM Groups mapped to gateway
-- roles). Never edit this file once shipped: add 0011_*.sql.
--
-- displayName is unique per organisation without case (RFC 7643 §4.2), externalId with case; the
-- members are part of the stored resource (the roles they lead to go through the duties table).

CREATE TABLE scim_groups (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id),
  client_id text NOT NULL REFERENCES provisioning_clients(id),
  display_name_key text NOT NULL,
  external_id text,
  version integer NOT NULL CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  last_modified timestamptz NOT NULL,
  resource text NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (organisation_id, display_name_key);
CREATE UNIQUE INDEX scim_groups_external_id ON scim_groups (organisation_id, external_id) WHERE external_id IS NOT NULL;
