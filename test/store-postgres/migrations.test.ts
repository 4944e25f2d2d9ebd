/**
 * The PostgreSQL schema: the first migration is SQLite's migrations 1-12 in PostgreSQL's types,
 * applied by the gateway's own (non-superuser) role, once, however many instances start together.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../server/store/sqlite/migrations.js';
import { StoreConflict, StoreError } from '../../server/store/postgres/errors.js';
import { loadMigrations, migrate, SchemaMismatch, schemaVersion } from '../../server/store/postgres/migrate.js';
import { inTransaction } from '../../server/store/postgres/transaction.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { insertCredential, insertIdentity, insertOrganisation } from './fixtures.js';

/** The tables and columns SQLite has after all its migrations. */
function sqliteSchema(): Map<string, string[]> {
  const db = new Database(':memory:');
  try {
    for (const m of SQLITE_MIGRATIONS) db.exec(m.sql);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    return new Map(tables.map(({ name }) => [name, (db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY name`).all(name) as { name: string }[]).map((c) => c.name)]));
  } finally {
    db.close();
  }
}

async function postgresColumns(db: TestDatabase): Promise<Map<string, Map<string, string>>> {
  return db.admin(async (c) => {
    const r = await c.query<{ table_name: string; column_name: string; data_type: string }>(
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name",
    );
    const out = new Map<string, Map<string, string>>();
    for (const row of r.rows) {
      const t = out.get(row.table_name) ?? new Map<string, string>();
      t.set(row.column_name, row.data_type);
      out.set(row.table_name, t);
    }
    return out;
  });
}

describe('PostgreSQL migrations', () => {
  let empty: TestDatabase;
  before(async () => {
    empty = await freshDatabase({ migrated: false });
  });
  after(async () => {
    await empty.drop();
  });

  test('the first migration applies to an empty database as the gateway role (no superuser), and running again applies nothing', async () => {
    const pool = empty.pool();
    const superuser = await pool.rows('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    assert.equal(superuser[0]?.['rolsuper'], false, 'the test role is an ordinary role');
    assert.equal(await schemaVersion(pool), 0);
    const first = await migrate(pool);
    assert.deepEqual(first, { applied: [1], version: 1 });
    assert.equal(await schemaVersion(pool), 1);
    const again = await migrate(pool);
    assert.deepEqual(again, { applied: [], version: 1 });
    const recorded = await pool.rows('SELECT version, name, checksum FROM schema_migrations');
    assert.deepEqual(recorded, [{ version: 1, name: 'schema', checksum: loadMigrations()[0]?.checksum }]);
  });

  test('the PostgreSQL schema has every table and column of SQLite migrations 1-12, and besides them only leases, rate-limit windows and schema_migrations', async () => {
    const sqlite = sqliteSchema();
    const pg = await postgresColumns(empty);
    for (const [table, columns] of sqlite) {
      const pgTable = pg.get(table);
      assert.ok(pgTable, `table ${table} exists in PostgreSQL`);
      assert.deepEqual([...pgTable.keys()].sort(), [...columns].sort(), `columns of ${table}`);
    }
    const extra = [...pg.keys()].filter((t) => !sqlite.has(t)).sort();
    assert.deepEqual(extra, ['leases', 'rate_limit_windows', 'schema_migrations']);
  });

  test('types: every time is timestamptz, blobs bytea, flags boolean, the counter bigint, JSON jsonb or json (exact text where it is hashed or passed on), ids identity columns but the chain\'s own numbers', async () => {
    const pg = await postgresColumns(empty);
    for (const [table, columns] of pg) {
      for (const [column, type] of columns) {
        if (/_at$|_until$/.test(column) || column === 'at') assert.equal(type, 'timestamp with time zone', `${table}.${column}`);
      }
    }
    const type = (t: string, c: string) => pg.get(t)?.get(c);
    assert.equal(type('credentials', 'public_key'), 'bytea');
    assert.equal(type('credentials', 'attestation_object'), 'bytea');
    for (const flag of ['backup_eligible', 'backup_state', 'uv_at_registration', 'attestation_verified']) assert.equal(type('credentials', flag), 'boolean');
    assert.equal(type('credentials', 'sign_count'), 'bigint');
    for (const [t, c] of [['credentials', 'transports'], ['sessions', 'amr'], ['approvals', 'subjects'], ['oidc_clients', 'scopes'], ['signing_keys', 'public_jwk']]) {
      assert.equal(type(t as string, c as string), 'jsonb', `${t}.${c}`);
    }
    for (const [t, c] of [['audit_events', 'data'], ['approvals', 'payload'], ['oidc_requests', 'params'], ['outbox', 'receipt_claims']]) {
      assert.equal(type(t as string, c as string), 'json', `${t}.${c}`);
    }
    const identity = await empty.admin(async (c) =>
      (await c.query<{ t: string }>("SELECT table_name || '.' || column_name AS t FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES' ORDER BY 1")).rows.map((r) => r.t),
    );
    assert.deepEqual(identity, ['audit_checkpoints.id', 'audit_prunes.id', 'credential_events.id', 'identity_setups.id', 'signing_key_records.id']);
  });

  test('ephemeral state is UNLOGGED (challenges, rate-limit windows); every other table is logged and replicated', async () => {
    const rows = await empty.admin(async (c) =>
      (await c.query<{ relname: string; relpersistence: string }>("SELECT relname, relpersistence FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY relname")).rows,
    );
    const unlogged = rows.filter((r) => r.relpersistence === 'u').map((r) => r.relname);
    assert.deepEqual(unlogged, ['challenges', 'rate_limit_windows']);
    assert.ok(rows.length > 20);
  });
});

describe('PostgreSQL migrations across instances and releases', () => {
  let db: TestDatabase;
  before(async () => {
    db = await freshDatabase({ migrated: false });
  });
  after(async () => {
    await db.drop();
  });

  test('five instances starting together on an empty database: the schema is applied exactly once', async () => {
    const pools = Array.from({ length: 5 }, () => db.pool({ max: 1 }));
    const results = await Promise.all(pools.map((p) => migrate(p)));
    assert.deepEqual(results.flatMap((r) => r.applied), [1]);
    assert.ok(results.every((r) => r.version === 1));
  });

  test('a shipped migration changed afterwards, and a database a newer release migrated, are refused (SchemaMismatch)', async () => {
    const pool = db.pool({ max: 1 });
    const [first] = loadMigrations();
    assert.ok(first);
    await assert.rejects(migrate(pool, [{ ...first, sql: `${first.sql}\n-- edited`, checksum: 'f'.repeat(64) }]), (err: unknown) => err instanceof SchemaMismatch && /never edited/.test(err.message));
    await assert.rejects(migrate(pool, []), (err: unknown) => err instanceof SchemaMismatch && /newer than this release/.test(err.message));
  });
});

describe('constraints carried over from SQLite', () => {
  let db: TestDatabase;
  before(async () => {
    db = await freshDatabase();
  });
  after(async () => {
    await db.drop();
  });

  test('UNIQUE and CHECK constraints hold: one active binding per email, 8-digit CVR, uint32 counter, one active signing key; violations are typed', async () => {
    const pool = db.pool();
    await inTransaction(pool, async (sql) => {
      await insertOrganisation(sql, 'org-1');
      await insertIdentity(sql, 'id-1', 'org-1', 'anna@example.dk');
    });
    await assert.rejects(
      inTransaction(pool, (sql) => insertIdentity(sql, 'id-2', 'org-1', 'anna@example.dk')),
      (err: unknown) => err instanceof StoreConflict,
      'a second active binding of one email address',
    );
    await assert.rejects(
      inTransaction(pool, (sql) => sql.count("INSERT INTO organisations (id, cvr, name, created_at) VALUES ('org-2', '1234567', 'x', now())")),
      (err: unknown) => err instanceof StoreError && /23514/.test(err.message),
    );
    await inTransaction(pool, (sql) => insertCredential(sql, 'cred-1', 'id-1', { signCount: 4294967295 }));
    await assert.rejects(
      inTransaction(pool, (sql) => sql.count('UPDATE credentials SET sign_count = sign_count + 1 WHERE id = $1', ['cred-1'])),
      (err: unknown) => err instanceof StoreError && /23514/.test(err.message),
    );
    const key = (kid: string) =>
      inTransaction(pool, (sql) =>
        sql.count(
          "INSERT INTO signing_keys (kid, cka_id, label, alg, public_jwk, state, created_at) VALUES ($1, $1, $1, 'ES256', '{}', 'active', now())",
          [kid],
        ),
      );
    await key('k1');
    await assert.rejects(key('k2'), (err: unknown) => err instanceof StoreConflict);
  });
});
