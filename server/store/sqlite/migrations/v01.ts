/** Migration 1: lifecycle core. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 1,
  name: 'lifecycle core',
  sql: `
CREATE TABLE organisations (
  id TEXT PRIMARY KEY,
  cvr TEXT NOT NULL UNIQUE CHECK (length(cvr) = 8),
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE identities (
  id TEXT PRIMARY KEY,
  organisation_id TEXT NOT NULL REFERENCES organisations(id),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  email_norm TEXT NOT NULL,
  ial TEXT NOT NULL CHECK (ial IN ('low', 'substantial', 'high')),
  proofing_method TEXT NOT NULL,
  proofed_by TEXT,
  binding_state TEXT NOT NULL CHECK (binding_state IN ('active', 'ended')),
  created_at TEXT NOT NULL,
  binding_ended_at TEXT
);
CREATE UNIQUE INDEX identities_active_email ON identities(email_norm) WHERE binding_state = 'active';

CREATE TABLE identity_roles (
  identity_id TEXT NOT NULL REFERENCES identities(id),
  role TEXT NOT NULL CHECK (role IN ('employee', 'helpdesk', 'security-officer', 'org-admin')),
  granted_by TEXT,
  granted_at TEXT NOT NULL,
  PRIMARY KEY (identity_id, role)
);

CREATE TABLE enrolments (
  id TEXT PRIMARY KEY,
  identity_id TEXT NOT NULL REFERENCES identities(id),
  token_hash TEXT NOT NULL UNIQUE,
  created_by TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT,
  superseded_at TEXT
);
CREATE INDEX enrolments_identity ON enrolments(identity_id);

CREATE TABLE credentials (
  id TEXT PRIMARY KEY,
  identity_id TEXT NOT NULL REFERENCES identities(id),
  credential_id TEXT NOT NULL UNIQUE,
  public_key BLOB NOT NULL,
  aaguid TEXT NOT NULL,
  sign_count INTEGER NOT NULL CHECK (sign_count >= 0),
  transports TEXT NOT NULL,
  backup_eligible INTEGER NOT NULL,
  backup_state INTEGER NOT NULL,
  attestation_format TEXT NOT NULL,
  attestation_object BLOB NOT NULL,
  uv_at_registration INTEGER NOT NULL,
  label TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('issued', 'active', 'suspended', 'revoked', 'expired')),
  state_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  activated_at TEXT,
  last_used_at TEXT,
  expires_at TEXT,
  enrolment_id TEXT REFERENCES enrolments(id)
);
CREATE INDEX credentials_identity ON credentials(identity_id);

CREATE TABLE credential_events (
  id INTEGER PRIMARY KEY,
  credential_id TEXT NOT NULL REFERENCES credentials(id),
  action TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  actor_id TEXT,
  actor_role TEXT NOT NULL,
  reason TEXT NOT NULL,
  note TEXT,
  clause TEXT NOT NULL,
  at TEXT NOT NULL,
  audit_seq INTEGER NOT NULL
);
CREATE INDEX credential_events_credential ON credential_events(credential_id, id);

CREATE TABLE activation_codes (
  id TEXT PRIMARY KEY,
  credential_id TEXT NOT NULL REFERENCES credentials(id),
  purpose TEXT NOT NULL CHECK (purpose IN ('activate', 'reactivate')),
  code_hash TEXT NOT NULL,
  requested_by TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  consumed_at TEXT,
  superseded_at TEXT,
  locked_at TEXT
);
CREATE INDEX activation_codes_credential ON activation_codes(credential_id);

CREATE TABLE challenges (
  challenge TEXT PRIMARY KEY,
  flow_hash TEXT NOT NULL,
  ceremony TEXT NOT NULL CHECK (ceremony IN ('registration', 'activation', 'signin')),
  identity_id TEXT,
  enrolment_id TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT
);
CREATE INDEX challenges_expiry ON challenges(expires_at);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  identity_id TEXT NOT NULL REFERENCES identities(id),
  credential_id TEXT NOT NULL REFERENCES credentials(id),
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  absolute_expires_at TEXT NOT NULL,
  ended_at TEXT,
  end_reason TEXT
);
CREATE INDEX sessions_identity ON sessions(identity_id);
CREATE INDEX sessions_credential ON sessions(credential_id);

CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  actor_id TEXT,
  actor_role TEXT NOT NULL,
  subject_id TEXT,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events(subject_id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL CHECK (channel IN ('email')),
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT,
  kind TEXT NOT NULL,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  sent_at TEXT,
  last_error TEXT
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE sent_at IS NULL;
`,
};
