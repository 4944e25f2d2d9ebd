/** Applies the migrations (migrations/index.ts) in order, each in one transaction. */
import type { Connection } from './connection.js';
import { MIGRATIONS } from './migrations/index.js';
import { num } from './rows.js';

export function migrate(db: Connection): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .all()
      .map((r) => num(r, 'version')),
  );
  let rewrite = false;
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    // Checked again under the write lock (BEGIN IMMEDIATE): two processes opening one file at the
    // same time (cluster workers, a CLI beside the gateway) both saw it missing above; the second
    // must find it applied by the first, not run its SQL a second time ("duplicate column").
    const ran = db.transaction(() => {
      if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version) !== undefined) return false;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      return true;
    }).immediate();
    // Only an existing database can hold what an earlier release left behind.
    if (ran && m.rewriteAfter && applied.size > 0) rewrite = true;
  }
  if (rewrite) {
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
}

export function schemaVersionOf(db: Connection): number {
  return num(db.prepare('SELECT max(version) AS v FROM schema_migrations').get(), 'v');
}

/** The newest migration this code knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
