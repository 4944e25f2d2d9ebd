/** Migration 17: indexes for the staff lists (issue 16): people by organisation and name, keys by state, expiry and last use. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 17,
  name: 'staff lists: indexes for filters and sorts',
  sql: `CREATE INDEX IF NOT EXISTS identities_org_name ON identities(organisation_id, name);
CREATE INDEX IF NOT EXISTS credentials_state ON credentials(state, state_reason);
CREATE INDEX IF NOT EXISTS credentials_expires ON credentials(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS credentials_last_used ON credentials(last_used_at);`,
};
