/** Migration 3: consoles: approvals, replacement enrolments. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 3,
  name: 'consoles: approvals, replacement enrolments',
  sql: `
CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('bulk', 'replacement')),
  payload TEXT NOT NULL,
  summary TEXT NOT NULL,
  requested_by TEXT NOT NULL REFERENCES identities(id),
  requested_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'executed', 'rejected', 'failed')),
  decided_by TEXT REFERENCES identities(id),
  decided_at TEXT,
  result TEXT
);
CREATE INDEX approvals_pending ON approvals(state, requested_at);

ALTER TABLE enrolments ADD COLUMN replaces_credential_id TEXT REFERENCES credentials(id);
ALTER TABLE enrolments ADD COLUMN basis TEXT;
CREATE INDEX credential_events_actor ON credential_events(actor_id, at);
`,
};
