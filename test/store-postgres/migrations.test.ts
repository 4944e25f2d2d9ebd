/**
 * The PostgreSQL schema: the first migration is SQLite's migrations 1-12 in PostgreSQL's types, the
 * second the twin of SQLite 13 (the store port); applied by the gateway's own (non-superuser) role,
 * once, however many instances start together.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SqliteEphemeral } from '../../server/store/sqlite/ephemeral.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../server/store/sqlite/migrations/index.js';
import { StoreConflict, StoreError } from '../../server/store/postgres/errors.js';
import { loadMigrations, migrate, SchemaMismatch, schemaVersion } from '../../server/store/postgres/migrate.js';
import { inTransaction } from '../../server/store/postgres/transaction.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { entryHash, GENESIS_HASH, verifyChain } from '../../server/audit/hashChain.js';
import { appendAudit, auditEntries, insertCredential, insertIdentity, insertOrganisation } from './fixtures.js';

function columnsOf(db: Database.Database): Map<string, string[]> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
  return new Map(tables.map(({ name }) => [name, (db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY name`).all(name) as { name: string }[]).map((c) => c.name)]));
}

/** The tables and columns SQLite has after all its migrations (the durable file). */
function sqliteSchema(): Map<string, string[]> {
  const db = new Database(':memory:');
  try {
    for (const m of SQLITE_MIGRATIONS) db.exec(m.sql);
    return columnsOf(db);
  } finally {
    db.close();
  }
}

/** The tables and columns of SQLite's ephemeral file (server/store/sqlite/ephemeral.ts). */
function sqliteEphemeralSchema(): Map<string, string[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-eph-'));
  try {
    new SqliteEphemeral(path.join(dir, 'e.db')).close();
    const db = new Database(path.join(dir, 'e.db'), { readonly: true });
    try {
      return columnsOf(db);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
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

  test('the migrations apply to an empty database as the gateway role (no superuser), and running again applies nothing', async () => {
    const pool = empty.pool();
    const superuser = await pool.rows('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    assert.equal(superuser[0]?.['rolsuper'], false, 'the test role is an ordinary role');
    assert.equal(await schemaVersion(pool), 0);
    const first = await migrate(pool);
    const versions = loadMigrations().map((m) => m.version);
    const latest = Math.max(...versions);
    assert.deepEqual(first, { applied: versions, version: latest });
    assert.equal(await schemaVersion(pool), latest);
    const again = await migrate(pool);
    assert.deepEqual(again, { applied: [], version: latest });
    const recorded = await pool.rows('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    assert.deepEqual(recorded, loadMigrations().map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })));
    assert.deepEqual(recorded.map((r) => r['name']), ['schema', 'store_port', 'saml', 'provisioning', 'idm', 'staff_lists', 'audit_chain_head', 'language', 'oidc_client_state', 'scim_groups', 'scim_group_roles_applied']);
  });

  test("the PostgreSQL schema has every table and column of SQLite's durable file (migrations 1-13) and of its ephemeral file; the differences are the named ones", async () => {
    const sqlite = sqliteSchema();
    const ephemeral = sqliteEphemeralSchema();
    const pg = await postgresColumns(empty);
    const columns = (table: string) => [...(pg.get(table)?.keys() ?? [])].sort();
    // PostgreSQL's leases carry a fencing number and the time they changed hands; SQLite's
    // `until` is `expires_at` (docs/architecture-postgres.md, "Locks and leases").
    const renamed = new Map([['leases', ['acquired_at', 'expires_at', 'fencing', 'holder', 'name']]]);
    for (const [table, cols] of sqlite) {
      assert.ok(pg.has(table), `table ${table} exists in PostgreSQL`);
      assert.deepEqual(columns(table), renamed.get(table) ?? [...cols].sort(), `columns of ${table}`);
    }
    assert.deepEqual(columns('challenges'), [...(ephemeral.get('challenges') ?? [])].sort(), 'challenges as in the ephemeral file');
    assert.deepEqual(columns('rate_limit_windows'), [...(ephemeral.get('rate_limits') ?? [])].sort(), 'rate_limit_windows as rate_limits in the ephemeral file');
    const extra = [...pg.keys()].filter((t) => !sqlite.has(t)).sort();
    // audit_chain_head: the chain's head row of PostgreSQL's one-statement append (0007, issue 17).
    assert.deepEqual(extra, ['audit_chain_head', 'challenges', 'rate_limit_windows', 'schema_migrations']);
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
    const comments = await empty.admin(async (c) =>
      (await c.query<{ relname: string; comment: string | null }>("SELECT relname, obj_description(oid, 'pg_class') AS comment FROM pg_class WHERE relname IN ('challenges', 'rate_limit_windows', 'leases') ORDER BY relname")).rows,
    );
    assert.deepEqual(
      comments.map((c) => [c.relname, c.comment?.split(':')[0]]),
      [['challenges', 'Ephemeral (UNLOGGED)'], ['leases', 'Durable'], ['rate_limit_windows', 'Ephemeral (UNLOGGED)']],
      'the catalogue says which state is which',
    );
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
    const versions = loadMigrations().map((m) => m.version);
    assert.deepEqual(results.flatMap((r) => r.applied).sort((a, b) => a - b), versions);
    assert.ok(results.every((r) => r.version === Math.max(...versions)));
  });

  test('a shipped migration changed afterwards, and a database a newer release migrated, are refused (SchemaMismatch)', async () => {
    const pool = db.pool({ max: 1 });
    const [first] = loadMigrations();
    assert.ok(first);
    await assert.rejects(migrate(pool, [{ ...first, sql: `${first.sql}\n-- edited`, checksum: 'f'.repeat(64) }]), (err: unknown) => err instanceof SchemaMismatch && /never edited/.test(err.message));
    await assert.rejects(migrate(pool, []), (err: unknown) => err instanceof SchemaMismatch && /newer than this release/.test(err.message));
  });
});

const AT = '2026-01-05T08:00:00.000Z';

describe('PostgreSQL migration 7: the audit chain head row (issue 17)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await freshDatabase({ migrated: false });
  });
  after(async () => {
    await db.drop();
  });

  test('NSIS 6 (Low) 7: a database with a chain written before migration 7 continues that chain after it: the head row starts at its last entry and the whole chain verifies', async () => {
    const pool = db.pool({ max: 2 });
    const migrations = loadMigrations();
    await migrate(pool, migrations.filter((m) => m.version < 7));
    // Three entries as the release before issue 17 wrote them: linked and hashed in JavaScript.
    await inTransaction(pool, async (sql) => {
      let prev = GENESIS_HASH;
      for (let seq = 1; seq <= 3; seq++) {
        const body = { seq, at: AT, type: 'test.before', actorId: null, actorRole: 'system', subjectId: null, data: { seq } };
        const hash = entryHash(prev, body);
        await sql.count(
          'INSERT INTO audit_events (seq, at, type, actor_id, actor_role, subject_id, data, prev_hash, hash) VALUES ($1, $2, $3, NULL, $4, NULL, $5, $6, $7)',
          [seq, AT, body.type, 'system', JSON.stringify(body.data), prev, hash],
        );
        prev = hash;
      }
    });
    assert.deepEqual(await migrate(pool, migrations), { applied: migrations.filter((m) => m.version >= 7).map((m) => m.version), version: Math.max(...migrations.map((m) => m.version)) });
    await inTransaction(pool, (sql) => appendAudit(sql, 'test.after', AT, {}));
    const entries = await inTransaction(pool, auditEntries);
    assert.deepEqual(entries.map((e) => e.seq), [1, 2, 3, 4]);
    assert.deepEqual(verifyChain(entries), { ok: true, entries: 4, headHash: entries.at(-1)?.hash });
    await assert.rejects(inTransaction(pool, (sql) => sql.count('DELETE FROM audit_chain_head')), (err: unknown) => err instanceof StoreError, 'the head row is never deleted');
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
