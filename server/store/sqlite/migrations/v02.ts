/** Migration 2: signing keys, tokens, checkpoints. */
import type { Migration } from './migration.js';

export const migration: Migration = {
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
};
