-- PostgreSQL migration 11: the twin of SQLite migration 21 (issue 18). The table of directory
-- groups to roles (GATEWAY_SCIM_GROUP_ROLES_FILE) the SCIM Groups were last reconciled with: at
-- start the gateway compares it with the file and withdraws at once the roles that only a removed
-- or changed row asked for. One row, changed by compare-and-set, so two instances starting
-- together reconcile once. Never edit this file once shipped: add 0012_*.sql.

CREATE TABLE scim_group_roles_applied (
  id integer PRIMARY KEY CHECK (id = 1),
  rules text NOT NULL,
  applied_at timestamptz NOT NULL
);
