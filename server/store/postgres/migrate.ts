/**
 * Schema migrations of the PostgreSQL adapter: the files of ./migrations/ named NNNN_what.sql,
 * applied in order, each in its own transaction (PostgreSQL's DDL is transactional: a migration
 * applies whole or not at all). Instances starting together take the migrations advisory lock, so
 * one migrates and the others then find nothing to do.
 *
 * `schema_migrations` records each applied version with the SHA-256 of its file. A shipped
 * migration is never edited (add a new one): the runner refuses to start on a database whose
 * recorded checksum differs from the file, and on a database that a newer release has migrated
 * past what this one knows (old code must not write into a newer schema).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockForTransaction } from './advisoryLocks.js';
import { StoreError } from './errors.js';
import type { PostgresPool, TxSql } from './pool.js';
import { inTransaction } from './transaction.js';

export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** The migrations in `dir`, in order; refuses gaps, duplicates and stray files. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): PostgresMigration[] {
  const migrations: PostgresMigration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d{4})_([a-z0-9-_]+)\.sql$/.exec(file);
    if (!m?.[1] || !m[2]) throw new TypeError(`postgres migrations: ${file} is not named NNNN_name.sql`);
    const sql = readFileSync(path.join(dir, file), 'utf8');
    migrations.push({ version: Number(m[1]), name: m[2], sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  migrations.forEach((mig, i) => {
    if (mig.version !== i + 1) throw new TypeError(`postgres migrations: expected version ${i + 1}, found ${mig.version} (${mig.name})`);
  });
  return migrations;
}

/** The schema is not the one this release was built for. */
export class SchemaMismatch extends StoreError {}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

interface Applied {
  version: number;
  checksum: string;
}

async function appliedMigrations(sql: TxSql): Promise<Applied[]> {
  const rows = await sql.rows('SELECT version, checksum FROM schema_migrations ORDER BY version');
  return rows.map((r) => {
    const { version, checksum } = r;
    if (typeof version !== 'number' || typeof checksum !== 'string') throw new TypeError('store: schema_migrations row has unexpected types');
    return { version, checksum };
  });
}

function check(applied: Applied[], known: PostgresMigration[]): void {
  for (const a of applied) {
    const m = known[a.version - 1];
    if (!m) {
      throw new SchemaMismatch(
        `the database is at schema version ${applied.at(-1)?.version}, newer than this release knows (${known.length}); run the release that migrated it`,
      );
    }
    if (m.checksum !== a.checksum) {
      throw new SchemaMismatch(`PostgreSQL migration ${a.version} (${m.name}) was changed after it was applied; a shipped migration is never edited`);
    }
  }
}

/**
 * Brings the database to the newest schema. Idempotent. Returns the versions applied now (empty
 * when it was up to date) and the schema version reached.
 */
export async function migrate(pool: PostgresPool, migrations: PostgresMigration[] = loadMigrations()): Promise<{ applied: number[]; version: number }> {
  const applied: number[] = [];
  for (;;) {
    const next = await inTransaction(pool, async (sql) => {
      await lockForTransaction(sql, 'migrations');
      await sql.script(CREATE_TABLE);
      const done = await appliedMigrations(sql);
      check(done, migrations);
      const migration = migrations[done.length];
      if (!migration) return undefined;
      // DDL runs through the simple query protocol (several statements in one text); the
      // session's lock_timeout bounds the wait for tables a running instance uses.
      await sql.script(migration.sql);
      await sql.count('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
      return migration.version;
    });
    if (next === undefined) break;
    applied.push(next);
  }
  return { applied, version: migrations.length };
}

/** The newest applied migration, 0 on an empty database. */
export async function schemaVersion(pool: PostgresPool): Promise<number> {
  return inTransaction(
    pool,
    async (sql) => {
      const [table] = await sql.rows("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
      if (table?.['present'] !== true) return 0;
      const [row] = await sql.rows('SELECT coalesce(max(version), 0) AS version FROM schema_migrations');
      const version = row?.['version'];
      if (typeof version !== 'number') throw new TypeError('store: schema version is not a number');
      return version;
    },
    { readOnly: true },
  );
}
