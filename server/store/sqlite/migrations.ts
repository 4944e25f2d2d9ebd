/**
 * Schema migrations, applied in order inside one transaction each. Never edit a shipped
 * migration: add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * Rewrite the whole file (VACUUM) and empty the WAL once this migration has been applied to an
   * existing database: content that earlier releases left in free pages (clear activation codes,
   * issue 13, 5) is gone from the file afterwards.
   */
  rewriteAfter?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  {
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
  },
  {
    version: 2,
    name: 'signing keys, tokens, checkpoints',
    sql: `
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  cka_id TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retired', 'destroyed')),
  created_at TEXT NOT NULL,
  promote_at TEXT,
  activated_at TEXT,
  retired_at TEXT,
  published_until TEXT,
  destroyed_at TEXT,
  compromised_at TEXT
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(state) WHERE state = 'active';

CREATE TABLE key_requests (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('rotation', 'emergency-rotation', 'destroy')),
  target_kid TEXT,
  reason TEXT NOT NULL,
  requested_by TEXT NOT NULL REFERENCES identities(id),
  requested_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'executed', 'rejected', 'failed')),
  decided_by TEXT REFERENCES identities(id),
  decided_at TEXT,
  result TEXT
);

CREATE TABLE audit_checkpoints (
  id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  at TEXT NOT NULL,
  kid TEXT NOT NULL,
  jws TEXT NOT NULL
);

CREATE TABLE audit_prunes (
  id INTEGER PRIMARY KEY,
  through_seq INTEGER NOT NULL,
  anchor_checkpoint_id INTEGER NOT NULL REFERENCES audit_checkpoints(id),
  at TEXT NOT NULL
);

ALTER TABLE outbox ADD COLUMN receipt_claims TEXT;
ALTER TABLE sessions ADD COLUMN aal TEXT NOT NULL DEFAULT 'low';
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '["hwk"]';
`,
  },
  {
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
  },
  {
    version: 4,
    name: 'OpenID Provider',
    sql: `
CREATE TABLE oidc_clients (
  client_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,
  post_logout_redirect_uris TEXT NOT NULL,
  auth_method TEXT NOT NULL CHECK (auth_method IN ('client_secret_basic', 'private_key_jwt')),
  secret_hash TEXT,
  jwks TEXT,
  scopes TEXT NOT NULL,
  min_loa TEXT NOT NULL CHECK (min_loa IN ('low', 'substantial', 'high')),
  backchannel_logout_uri TEXT,
  created_by TEXT,
  created_at TEXT NOT NULL
);

CREATE TABLE oidc_requests (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES oidc_clients(client_id),
  params TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT
);

CREATE TABLE oidc_codes (
  code_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES oidc_clients(client_id),
  redirect_uri TEXT NOT NULL,
  session_hash TEXT NOT NULL,
  nonce TEXT,
  code_challenge TEXT NOT NULL,
  scope TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT
);

CREATE TABLE oidc_access_tokens (
  token_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  session_hash TEXT NOT NULL,
  scope TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

CREATE TABLE oidc_session_clients (
  session_hash TEXT NOT NULL,
  client_id TEXT NOT NULL,
  PRIMARY KEY (session_hash, client_id)
);

CREATE TABLE oidc_assertion_jtis (
  jti TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

ALTER TABLE sessions ADD COLUMN sid TEXT;
`,
  },
  {
    version: 5,
    name: 'access tokens remember their code',
    sql: `ALTER TABLE oidc_access_tokens ADD COLUMN code_hash TEXT;
CREATE INDEX oidc_access_tokens_code ON oidc_access_tokens(code_hash);`,
  },
  {
    version: 6,
    name: 'authenticator assurance evidence',
    sql: `ALTER TABLE credentials ADD COLUMN aal TEXT CHECK (aal IN ('low', 'substantial', 'high'));
ALTER TABLE credentials ADD COLUMN attestation_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN model TEXT;
ALTER TABLE credentials ADD COLUMN certification TEXT;
ALTER TABLE credentials ADD COLUMN aal_reasons TEXT;
CREATE INDEX credentials_aaguid ON credentials(aaguid);`,
  },
  {
    version: 7,
    name: 'enrolment links count failed registrations and lock',
    sql: `ALTER TABLE enrolments ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrolments ADD COLUMN locked_at TEXT;`,
  },
  {
    version: 8,
    name: 'audit events by actor: a person\'s own trail stays an index lookup at a million keys',
    sql: `CREATE INDEX audit_events_actor ON audit_events(actor_id);`,
  },
  {
    version: 9,
    name: 'a key\'s registration in its state history says registered, not other',
    // The history row of action `issue` carried the placeholder reason `other`, which pages showed
    // as "Reason: other". Its audit event (credential.issued) names no reason, so the chain is
    // untouched.
    sql: `UPDATE credential_events SET reason = 'registered' WHERE action = 'issue' AND reason = 'other';`,
  },
  {
    version: 10,
    name: 'tamper evidence anchored outside the database: chained checkpoints as signed notes, signed key records and prunes, append-only triggers',
    sql: `
ALTER TABLE audit_checkpoints ADD COLUMN n INTEGER;
ALTER TABLE audit_checkpoints ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_checkpoints ADD COLUMN note TEXT;
CREATE UNIQUE INDEX audit_checkpoints_n ON audit_checkpoints(n) WHERE n IS NOT NULL;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;

ALTER TABLE audit_prunes ADD COLUMN jws TEXT;
CREATE TRIGGER audit_prunes_no_update BEFORE UPDATE ON audit_prunes
  BEGIN SELECT RAISE(ABORT, 'audit_prunes is append-only'); END;
CREATE TRIGGER audit_prunes_no_delete BEFORE DELETE ON audit_prunes
  BEGIN SELECT RAISE(ABORT, 'audit_prunes is append-only'); END;

CREATE TABLE signing_key_records (
  id INTEGER PRIMARY KEY,
  kid TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('generated', 'activated', 'retired', 'destroyed', 'registered')),
  at TEXT NOT NULL,
  signer_kid TEXT NOT NULL,
  jws TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  audit_seq INTEGER NOT NULL
);
CREATE INDEX signing_key_records_kid ON signing_key_records(kid, id);
CREATE TRIGGER signing_key_records_no_update BEFORE UPDATE ON signing_key_records
  BEGIN SELECT RAISE(ABORT, 'signing_key_records is append-only'); END;
CREATE TRIGGER signing_key_records_no_delete BEFORE DELETE ON signing_key_records
  BEGIN SELECT RAISE(ABORT, 'signing_key_records is append-only'); END;

CREATE TRIGGER signing_keys_no_delete BEFORE DELETE ON signing_keys
  BEGIN SELECT RAISE(ABORT, 'signing_keys rows are never deleted'); END;
CREATE TRIGGER signing_keys_identity_fixed BEFORE UPDATE OF kid, cka_id, label, alg, public_jwk, created_at ON signing_keys
  BEGIN SELECT RAISE(ABORT, 'a signing key''s identity never changes'); END;

CREATE TABLE audit_witness_deliveries (
  checkpoint_id INTEGER NOT NULL REFERENCES audit_checkpoints(id),
  sink TEXT NOT NULL,
  delivered_at TEXT NOT NULL,
  PRIMARY KEY (checkpoint_id, sink)
);
CREATE TRIGGER audit_witness_deliveries_no_delete BEFORE DELETE ON audit_witness_deliveries
  BEGIN SELECT RAISE(ABORT, 'audit_witness_deliveries is append-only'); END;
`,
  },
  {
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
  },
  {
    version: 12,
    name: 'activation codes are minted at delivery: never stored in clear (outbox secret reference, mint time)',
    sql: `ALTER TABLE outbox ADD COLUMN secret_ref TEXT;
ALTER TABLE activation_codes ADD COLUMN minted_at TEXT;`,
    rewriteAfter: true,
  },
  {
    version: 13,
    name: 'the store port: WebAuthn challenges leave the durable file (the ephemeral store holds them), named leases',
    // A challenge is single use and lives two minutes: losing it costs the person one retry, so it
    // needs no fsync (issue 14: a sign-in costs at most one durable commit). Leases name the one
    // process (or instance) that may do a singleton's work, e.g. sign the next audit checkpoint.
    sql: `DROP TABLE challenges;
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until TEXT NOT NULL
);`,
  },
];
