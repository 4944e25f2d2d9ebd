/** Migration 10: tamper evidence anchored outside the database: chained checkpoints as signed notes, signed key records and prunes, append-only triggers. */
import type { Migration } from './migration.js';

export const migration: Migration = {
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
};
