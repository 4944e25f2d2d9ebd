/**
 * Migration 21: the table of directory groups to roles (GATEWAY_SCIM_GROUP_ROLES_FILE) the SCIM
 * Groups were last reconciled with (issue 18). At start the gateway compares it with the file and
 * withdraws at once the roles that only a removed or changed row asked for; one row, changed by
 * compare-and-set, so two instances starting together reconcile once.
 */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 21,
  name: 'SCIM group-role table last applied',
  sql: `CREATE TABLE scim_group_roles_applied (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rules TEXT NOT NULL,
  applied_at TEXT NOT NULL
);`,
};
