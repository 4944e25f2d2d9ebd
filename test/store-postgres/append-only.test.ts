/**
 * The append-only guards of the SQLite schema, as PL/pgSQL triggers: what the audit trail and the
 * signed records hold cannot be rewritten or removed through SQL, not even by a superuser's
 * session, and a signed prune is the one way audit entries go.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyChain } from '../../server/audit/hashChain.js';
import { StoreError } from '../../server/store/postgres/errors.js';
import type { PostgresPool, TxSql } from '../../server/store/postgres/pool.js';
import { inTransaction } from '../../server/store/postgres/transaction.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { appendAudit, auditEntries } from './fixtures.js';

const AT = '2026-01-05T08:00:00.000Z';

/** Refused by an append-only trigger: SQLSTATE GW001, as a StoreError naming only the code. */
async function refused(pool: PostgresPool, statement: string, params: unknown[] = []): Promise<void> {
  await assert.rejects(
    inTransaction(pool, (sql) => sql.count(statement, params)),
    (err: unknown) => err instanceof StoreError && /SQLSTATE GW001/.test(err.message),
    statement,
  );
}

describe('append-only tables', () => {
  let db: TestDatabase;
  let pool: PostgresPool;
  before(async () => {
    db = await freshDatabase();
    pool = db.pool();
    await inTransaction(pool, async (sql) => {
      for (let i = 1; i <= 3; i++) await appendAudit(sql, 'test.event', AT, { i });
      await sql.count(
        "INSERT INTO audit_checkpoints (seq, head_hash, at, kid, jws, n, prev_hash, note) VALUES (3, 'h', $1, 'k1', 'jws', 1, 'p', 'note')",
        [AT],
      );
      await sql.count("INSERT INTO audit_witness_deliveries (checkpoint_id, sink, delivered_at) VALUES (1, 'dir', $1)", [AT]);
      // A prune that removed nothing (through 0), so that audit_prunes has a row to protect.
      await sql.count("INSERT INTO audit_prunes (through_seq, anchor_checkpoint_id, at, jws) VALUES (0, 1, $1, 'signed')", [AT]);
      await sql.count(
        "INSERT INTO signing_keys (kid, cka_id, label, alg, public_jwk, state, created_at) VALUES ('k1', '01', 'gateway-k1', 'ES256', '{\"kty\":\"EC\"}', 'pending', $1)",
        [AT],
      );
      await sql.count(
        "INSERT INTO signing_key_records (kid, event, at, signer_kid, jws, hash, audit_seq) VALUES ('k1', 'generated', $1, 'k1', 'jws', 'hash-1', 1)",
        [AT],
      );
      await sql.count("INSERT INTO organisations (id, cvr, name, created_at) VALUES ('org', '12345674', 'Demo', $1)", [AT]);
      await sql.count(
        "INSERT INTO identities (id, organisation_id, name, email, email_norm, ial, proofing_method, binding_state, created_at) VALUES ('p1', 'org', 'A', 'a@x.dk', 'a@x.dk', 'low', 'x', 'active', $1)",
        [AT],
      );
      await sql.count("INSERT INTO identity_setups (identity_id, aspect, set_by, at) VALUES ('p1', 'identity', 'admin', $1)", [AT]);
    });
  });
  after(async () => {
    await db.drop();
  });

  test('NSIS 6 (Low) 7: audit entries cannot be updated, deleted or truncated (SQLSTATE GW001); the chain still verifies', async () => {
    await refused(pool, "UPDATE audit_events SET type = 'forged' WHERE seq = 2");
    await refused(pool, 'DELETE FROM audit_events WHERE seq = 3');
    await refused(pool, 'TRUNCATE audit_events');
    const entries = await inTransaction(pool, auditEntries, { readOnly: true });
    assert.equal(entries.length, 3);
    assert.equal(verifyChain(entries).ok, true);
  });

  test('NSIS 6 (Low) 7: the guards hold for a superuser session too (lifting them takes a deliberate DROP or DISABLE TRIGGER)', async () => {
    await db.admin(async (c) => {
      await assert.rejects(c.query("UPDATE audit_events SET type = 'forged'"), (err: unknown) => err instanceof Error && 'code' in err && err.code === 'GW001');
      await assert.rejects(c.query('DELETE FROM signing_key_records'), (err: unknown) => err instanceof Error && 'code' in err && err.code === 'GW001');
    });
  });

  test('NSIS 6 (Low) 7: checkpoints, prunes, signing-key records and identity setups are append-only; witness deliveries and signing keys are never deleted', async () => {
    for (const table of ['audit_checkpoints', 'signing_key_records', 'identity_setups', 'audit_prunes']) {
      await refused(pool, `UPDATE ${table} SET at = at + interval '1 day'`);
      await refused(pool, `TRUNCATE ${table} CASCADE`);
    }
    for (const table of ['audit_checkpoints', 'audit_prunes', 'signing_key_records', 'identity_setups', 'audit_witness_deliveries', 'signing_keys']) {
      await refused(pool, `DELETE FROM ${table}`);
    }
    await refused(pool, 'TRUNCATE audit_witness_deliveries');
    await refused(pool, 'TRUNCATE signing_keys CASCADE');
  });

  test("NSIS 6 (Low) 4: a signing key's identity (kid, CKA_ID, label, algorithm, public key, creation time) never changes; its state does", async () => {
    await refused(pool, "UPDATE signing_keys SET public_jwk = '{\"kty\":\"RSA\"}' WHERE kid = 'k1'");
    await refused(pool, "UPDATE signing_keys SET cka_id = '02' WHERE kid = 'k1'");
    await refused(pool, "UPDATE signing_keys SET created_at = created_at - interval '1 day' WHERE kid = 'k1'");
    const changed = await inTransaction(pool, (sql) => sql.count("UPDATE signing_keys SET state = 'active', activated_at = $1 WHERE kid = 'k1'", [AT]));
    assert.equal(changed, 1);
  });

  test('NSIS 4.1.4, 6 (Low) 7: a prune deletes audit entries only up to its own recorded prune, in its own transaction; past it, or without the record, it is refused', async () => {
    const prune = (sql: TxSql, through: number) => sql.rows("SELECT set_config('gateway.audit_prune_through', $1, true)", [String(through)]);
    // The setting alone is not enough: no prune record covers the entries.
    await assert.rejects(
      inTransaction(pool, async (sql) => {
        await prune(sql, 2);
        await sql.count('DELETE FROM audit_events WHERE seq <= 2');
      }),
      (err: unknown) => err instanceof StoreError && /GW001/.test(err.message),
    );
    const removed = await inTransaction(pool, async (sql) => {
      await sql.count("INSERT INTO audit_prunes (through_seq, anchor_checkpoint_id, at, jws) VALUES (2, 1, $1, 'signed')", [AT]);
      await prune(sql, 2);
      return sql.count('DELETE FROM audit_events WHERE seq <= 2');
    });
    assert.equal(removed, 2);
    // Entry 3 lies past the recorded prune: refused even with the setting raised.
    await assert.rejects(
      inTransaction(pool, async (sql) => {
        await prune(sql, 3);
        await sql.count('DELETE FROM audit_events WHERE seq = 3');
      }),
      (err: unknown) => err instanceof StoreError && /GW001/.test(err.message),
    );
    const rows = await pool.rows('SELECT seq FROM audit_events ORDER BY seq');
    assert.deepEqual(rows, [{ seq: 3 }]);
    // The setting lives for its transaction only: the next transaction on the same connection has none.
    const single = db.pool({ max: 1 });
    await inTransaction(single, (sql) => prune(sql, 3));
    const [later] = await single.rows("SELECT current_setting('gateway.audit_prune_through', true) AS through");
    assert.ok(later?.['through'] === '' || later?.['through'] === null, 'no prune setting outside its transaction');
  });
});
