/**
 * A tool's read-only view of a SQLite gateway database file (a backup copy, the live file of a
 * stopped or running gateway): the port's ReadTx over one read-only connection, in one read
 * transaction (a snapshot), for audit verification and inspection. Never migrates, creates or
 * changes anything.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import type { ReadTx } from '../../ports/store.js';
import { storeErrorOf } from './errors.js';
import { readTxOf, repositoriesOf } from './transactions.js';

export interface FileReader {
  tx: ReadTx;
  /** A read-only SQL query on the same snapshot, for inspection tools (test/support/invariantSources.ts). */
  query(sql: string, ...params: (string | number | null)[]): unknown[];
  close(): void;
}

/** Opens `file` read-only; throws (a plain Error naming the file) when it is absent or not a database. */
export function openSqliteFileReader(file: string, opts: { busyTimeoutMs?: number } = {}): FileReader {
  if (!fs.existsSync(file)) throw new Error(`no database at ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 10_000}`);
    // Fails here, not halfway, on a file that is not a gateway database.
    db.prepare('SELECT max(version) AS v FROM schema_migrations').get();
    db.prepare('BEGIN').run();
    // The snapshot starts at the first read.
    db.prepare('SELECT count(*) AS n FROM audit_events').get();
  } catch (err) {
    db.close();
    throw storeErrorOf(err);
  }
  return {
    tx: readTxOf(repositoriesOf(db)),
    query: (sql, ...params) => db.prepare(sql).all(...params),
    close() {
      if (!db.open) return;
      if (db.inTransaction) db.prepare('COMMIT').run();
      db.close();
    },
  };
}

/** Runs `fn` on a read-only snapshot of `file`, then closes it. */
export async function withSqliteFile<T>(file: string, fn: (tx: ReadTx) => Promise<T>, opts: { busyTimeoutMs?: number } = {}): Promise<T> {
  const reader = openSqliteFileReader(file, opts);
  try {
    return await fn(reader.tx);
  } finally {
    reader.close();
  }
}
