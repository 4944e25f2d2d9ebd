/** Migration 11: separation of duties: one approvals table for every four-eyes action, and who set up each identity. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 11,
  name: 'separation of duties: one approvals table for every four-eyes action, and who set up each identity',
  // NSIS 3.2.2 (High) 3, 5.2, 6 (Substantial) 11: the key-management requests join the console's
  // approvals (one mechanism), each request records the role its requester acted in, and who
  // created or changed an identity, its roles and its contact data is kept (append-only) so that
  // a person set up by a requester is never that requester's second person. The kind is checked
  // when a row is read (the duties table), so a new sensitive action needs no table rebuild.
  sql: `
CREATE TABLE approvals_v9 (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  summary TEXT NOT NULL,
  items TEXT NOT NULL DEFAULT '[]',
  subjects TEXT NOT NULL DEFAULT '[]',
  requested_by TEXT NOT NULL REFERENCES identities(id),
  requested_role TEXT NOT NULL CHECK (requested_role IN ('helpdesk', 'security-officer', 'org-admin')),
  requested_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'executed', 'rejected', 'failed', 'withdrawn')),
  decided_by TEXT REFERENCES identities(id),
  decided_role TEXT,
  decided_at TEXT,
  result TEXT
);
INSERT INTO approvals_v9 (id, kind, payload, summary, requested_by, requested_role, requested_at, state, decided_by, decided_at, result)
  SELECT id, kind, payload, summary, requested_by, 'helpdesk', requested_at, state, decided_by, decided_at, result FROM approvals;
INSERT INTO approvals_v9 (id, kind, payload, summary, requested_by, requested_role, requested_at, state, decided_by, decided_role, decided_at, result)
  SELECT id,
         CASE kind WHEN 'rotation' THEN 'hsm-key-rotation' WHEN 'emergency-rotation' THEN 'hsm-key-emergency-rotation' ELSE 'hsm-key-destroy' END,
         json_object('targetKid', target_kid, 'reason', reason),
         kind || coalesce(' of key ' || target_kid, '') || ': ' || reason,
         requested_by, 'security-officer', requested_at, state, decided_by,
         CASE WHEN decided_by IS NULL THEN NULL ELSE 'security-officer' END, decided_at, result
  FROM key_requests;
DROP TABLE approvals;
DROP TABLE key_requests;
ALTER TABLE approvals_v9 RENAME TO approvals;
CREATE INDEX approvals_pending ON approvals(state, requested_at);
CREATE INDEX approvals_requester ON approvals(requested_by, state);

CREATE TABLE identity_setups (
  id INTEGER PRIMARY KEY,
  identity_id TEXT NOT NULL REFERENCES identities(id),
  aspect TEXT NOT NULL CHECK (aspect IN ('identity', 'role', 'contact', 'name')),
  detail TEXT,
  set_by TEXT,
  approved_by TEXT,
  at TEXT NOT NULL
);
CREATE INDEX identity_setups_identity ON identity_setups(identity_id, set_by);
CREATE TRIGGER identity_setups_no_update BEFORE UPDATE ON identity_setups
  BEGIN SELECT RAISE(ABORT, 'identity_setups is append-only'); END;
CREATE TRIGGER identity_setups_no_delete BEFORE DELETE ON identity_setups
  BEGIN SELECT RAISE(ABORT, 'identity_setups is append-only'); END;
INSERT INTO identity_setups (identity_id, aspect, detail, set_by, at)
  SELECT id, 'identity', NULL, proofed_by, created_at FROM identities;
INSERT INTO identity_setups (identity_id, aspect, detail, set_by, at)
  SELECT identity_id, 'role', role, granted_by, granted_at FROM identity_roles WHERE role <> 'employee';
INSERT INTO identity_setups (identity_id, aspect, detail, set_by, at)
  SELECT subject_id, 'contact', json_extract(data, '$.to'), actor_id, at FROM audit_events
  WHERE type = 'identity.contact-changed' AND subject_id IN (SELECT id FROM identities) ORDER BY seq;
INSERT INTO identity_setups (identity_id, aspect, detail, set_by, at)
  SELECT subject_id, 'name', json_extract(data, '$.to'), actor_id, at FROM audit_events
  WHERE type = 'identity.identifying-data-corrected' AND subject_id IN (SELECT id FROM identities) ORDER BY seq;
`,
};
