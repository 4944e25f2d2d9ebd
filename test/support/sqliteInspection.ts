/**
 * SQLite-specific inspection for the tests that assert what only the embedded adapter has (file
 * pragmas, what a row holds on disk) or that tamper with the file as an attacker with write access
 * would: a connection of the test's own to the gateway's database file (or its ephemeral file),
 * opened beside the gateway's (WAL lets both work). This is the one place the tests reach the
 * SQLite files directly; everything else reads through the store port (storeReads.ts).
 */
import Database from 'better-sqlite3';
import { ephemeralFileOf } from '../../server/store/sqlite/index.js';

export type SqlConnection = Database.Database;

interface HasDbFile {
  runtime: { config: { dbFile: string } };
}

const open = new Map<string, SqlConnection>();

function fileOf(target: HasDbFile | string): string {
  return typeof target === 'string' ? target : target.runtime.config.dbFile;
}

/** A connection to the gateway's durable file (kept open until closeInspection). */
export function sql(target: HasDbFile | string): SqlConnection {
  const file = fileOf(target);
  let db = open.get(file);
  if (!db || !db.open) {
    db = new Database(file, { fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    open.set(file, db);
  }
  return db;
}

/** A connection to the gateway's ephemeral file (challenges, rate-limit counters). */
export function ephemeralSql(target: HasDbFile | string): SqlConnection {
  return sql(ephemeralFileOf(fileOf(target)));
}

/** Closes the inspection connections to `target`'s files (testGateway.close does). */
export function closeInspection(target: HasDbFile | string): void {
  const file = fileOf(target);
  for (const f of [file, ephemeralFileOf(file)]) {
    const db = open.get(f);
    if (db?.open) db.close();
    open.delete(f);
  }
}

/** A one-off connection to a database file (a copy, a scratch database; `create` makes a new one); the caller closes it. */
export function openSqlFile(file: string, opts: { readonly?: boolean; create?: boolean } = {}): SqlConnection {
  const db = new Database(file, { fileMustExist: !opts.create, readonly: opts.readonly ?? false });
  db.pragma('busy_timeout = 10000');
  return db;
}
