/** Migration 19: an org-admin may disable an OpenID Connect client (issue 16, the clients page). */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 19,
  name: 'OpenID Connect clients: disabled state',
  // Null while the client may be used; the time an org-admin disabled it otherwise. Every
  // endpoint (authorize, token, userinfo through its token, logout) refuses a disabled client.
  sql: `ALTER TABLE oidc_clients ADD COLUMN disabled_at TEXT;`,
};
