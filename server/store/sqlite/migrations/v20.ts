/** Migration 20: SCIM Groups (issue 18): the directory's groups that the organisation mapped to gateway roles. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 20,
  name: 'SCIM Groups mapped to gateway roles',
  // displayName is unique per organisation without case (RFC 7643 §4.2), externalId with case;
  // the members are part of the stored resource (the roles they lead to go through the duties table).
  sql: `CREATE TABLE scim_groups (
  id TEXT PRIMARY KEY,
  organisation_id TEXT NOT NULL REFERENCES organisations(id),
  client_id TEXT NOT NULL REFERENCES provisioning_clients(id),
  display_name_key TEXT NOT NULL,
  external_id TEXT,
  version INTEGER NOT NULL CHECK (version >= 1),
  created_at TEXT NOT NULL,
  last_modified TEXT NOT NULL,
  resource TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (organisation_id, display_name_key);
CREATE UNIQUE INDEX scim_groups_external_id ON scim_groups (organisation_id, external_id) WHERE external_id IS NOT NULL;`,
};
