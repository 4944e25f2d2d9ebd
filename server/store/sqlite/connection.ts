/**
 * Opening a better-sqlite3 connection as the adapter uses it: the file created private (0600),
 * WAL, the durability each file needs, and a statement cache. Private to this adapter.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

/** How long a statement waits for another connection's lock before SQLITE_BUSY (StoreBusy). */
export const BUSY_TIMEOUT_MS = 5000;

export type Connection = Database.Database;

/**
 * Compiling SQL costs tens of microseconds, more than running a keyed lookup; a sign-in runs a
 * dozen statements. So `db.prepare` hands back one compiled statement per SQL text. A statement
 * that is busy (an open iterate()) is never shared: that caller gets a fresh one.
 */
function cacheStatements(db: Connection): void {
  const compile = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  const cached = (sql: string): Database.Statement => {
    const hit = cache.get(sql);
    if (hit && !hit.busy) return hit;
    const fresh = compile(sql);
    if (!hit) cache.set(sql, fresh);
    return fresh;
  };
  db.prepare = cached as typeof db.prepare;
}

/** Creates the file (and its directory) readable by this user only, if it does not exist. */
export function createPrivateFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
}

/** The file and its WAL companions stay 0600 (they hold the same data). */
export function keepPrivate(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) {
    if (fs.existsSync(file + suffix)) fs.chmodSync(file + suffix, 0o600);
  }
}

export interface OpenOptions {
  /**
   * FULL: every COMMIT fsyncs (readers, tools). NORMAL: the durable file's writer, which flushes
   * the WAL itself off the event loop before it acknowledges a commit (writer.ts), so an
   * acknowledged change survives a power cut. OFF: the ephemeral file, whose loss costs a retry.
   */
  synchronous: 'FULL' | 'NORMAL' | 'OFF';
  /** A connection that only reads (the read pool, tools on a copy). */
  readOnly?: boolean;
  /** Zero deleted content in the file (issue 13, 5); the durable file only. */
  secureDelete?: boolean;
  busyTimeoutMs?: number;
}

export function openConnection(file: string, opts: OpenOptions): Connection {
  const db = new Database(file, { fileMustExist: true });
  try {
    switchToWal(db, opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
    db.pragma(`synchronous = ${opts.synchronous}`);
    db.pragma('foreign_keys = ON');
    if (opts.secureDelete) db.pragma('secure_delete = ON');
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS}`);
    if (opts.readOnly) db.pragma('query_only = ON');
    cacheStatements(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** What switchToWal sleeps on between tries (nothing ever wakes it: a plain synchronous pause). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * `journal_mode = WAL`, waiting for another process's lock on the file. The switch needs the file
 * to itself, and SQLite answers SQLITE_BUSY at once, without its busy handler, where waiting could
 * deadlock (this connection has read the file while another holds its write lock): so several
 * processes opening one new file together (cluster workers, a tool beside the gateway) could fail
 * with "database is locked". The switch is tried again, every 10 ms, until the busy timeout has
 * passed. Opening is synchronous, so the pause is too; it happens at open only.
 */
function switchToWal(db: Connection, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      Atomics.wait(PAUSE, 0, 0, 10);
    }
  }
}

function hasCode(err: unknown): err is { code: string } {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string';
}

export function isBusy(err: unknown): boolean {
  return hasCode(err) && (err.code.startsWith('SQLITE_BUSY') || err.code.startsWith('SQLITE_LOCKED'));
}

/**
 * BEGIN IMMEDIATE without waiting (the busy handler would sleep in this thread while another
 * process commits): false when another connection holds the write lock. The connection's
 * busy_timeout must be 0 (the writer's is, from its start: writer.ts); no pragma is run around
 * each BEGIN (issue 17: two statements fewer per commit).
 */
export function tryBeginImmediate(db: Connection): boolean {
  try {
    db.prepare('BEGIN IMMEDIATE').run();
    return true;
  } catch (err) {
    if (isBusy(err)) return false;
    throw err;
  }
}
