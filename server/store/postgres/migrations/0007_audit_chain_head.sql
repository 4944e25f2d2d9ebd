-- PostgreSQL migration 7 (issue 17): the audit chain's head as ONE row, so that an append is one
-- statement. A PostgreSQL-only structure (SQLite has one writer and needs no head row), so this
-- migration has no SQLite twin; the events themselves are unchanged. Never edit this file once
-- shipped: add 0008_*.sql.
--
-- An append is `WITH h AS (UPDATE audit_chain_head SET seq = seq + 1, prev_hash = hash, hash =
-- sha256(...) ...) INSERT INTO audit_events ... FROM h`: the UPDATE takes the row's lock until
-- COMMIT (it replaces the audit-chain advisory lock) and, under READ COMMITTED, a writer that waited
-- for the lock re-reads the row as its holder committed it, so no two transactions link to the same
-- head. The row is bookkeeping, not evidence: the chain is verified from audit_events alone, and a
-- head row set to anything but the last entry makes the next entry fail to link (audit:verify).

CREATE TABLE audit_chain_head (
  id smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL CHECK (seq >= 0),
  prev_hash text NOT NULL,
  hash text NOT NULL
);

INSERT INTO audit_chain_head (id, seq, prev_hash, hash)
SELECT 1,
       COALESCE((SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1), 0),
       COALESCE((SELECT prev_hash FROM audit_events ORDER BY seq DESC LIMIT 1), repeat('0', 64)),
       COALESCE((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), repeat('0', 64));

CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION gateway_refuse_change('audit_chain_head is the one head of the chain');
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION gateway_refuse_change('audit_chain_head is the one head of the chain');
