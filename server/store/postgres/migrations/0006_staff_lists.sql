-- PostgreSQL migration 6: the twin of SQLite migration 17 (issue 16, staff lists): indexes for
-- the filters and sorts of the people and key lists. Never edit this file once shipped.

CREATE INDEX IF NOT EXISTS identities_org_name ON identities(organisation_id, name COLLATE "C");
CREATE INDEX IF NOT EXISTS credentials_state ON credentials(state, state_reason);
CREATE INDEX IF NOT EXISTS credentials_expires ON credentials(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS credentials_last_used ON credentials(last_used_at);
