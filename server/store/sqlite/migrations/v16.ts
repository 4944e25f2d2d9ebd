/** Migration 16: the outbound sync to MitID Erhverv (issue 18): subject name ids and the IdM job queue. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 16,
  name: 'outbound sync to MitID Erhverv: subject name ids, IdM jobs',
  // One subject name id per person, unique (it is the LocalIdentityProvider id at MitID Erhverv
  // and the persistent SAML NameID). Jobs keep their queue order (seq); a claim is a lease.
  sql: `CREATE TABLE idm_people (
  identity_id TEXT PRIMARY KEY REFERENCES identities(id),
  subject_name_id TEXT NOT NULL UNIQUE,
  employee_uuid TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE idm_jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  identity_id TEXT NOT NULL REFERENCES identities(id),
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  lease_until TEXT,
  claimed_by TEXT,
  last_error TEXT,
  note TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX idm_jobs_due ON idm_jobs (state, next_attempt_at);
CREATE INDEX idm_jobs_person ON idm_jobs (identity_id, seq);`,
};
